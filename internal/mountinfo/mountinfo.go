// Package mountinfo holds what every reader of /proc/self/mountinfo
// (proc(5)) needs: the kernel writes a space, tab, newline or backslash
// in a path or an option as a backslash and three octal digits (\040
// for a space), so that the fields stay separated by spaces.
//
// cgroupctl reads it to find the cgroup hierarchies (lesson 03), overlay
// to find an overlay's layers (lesson 04).
package mountinfo

import (
	"strconv"
	"strings"
)

// Unescape undoes the kernel's \ooo escapes in a mountinfo field. A
// backslash not followed by three octal digits is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
