// Package mountinfo holds what every reader of /proc/self/mountinfo
// (proc(5)) needs: the kernel writes a space, tab, newline or backslash
// in a path or an option as a backslash and three octal digits (\040
// for a space), so that the fields stay separated by spaces.
//
// cgroupctl reads it to find the cgroup hierarchies (lesson 03), overlay
// to find an overlay's layers (lesson 04), mini-docker to find what a
// container left mounted (lesson 09).
package mountinfo

import (
	"os"
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

// MountPoints lists the mount points of the calling process's mount
// namespace (the fifth field of each line of /proc/self/mountinfo),
// unescaped, in the order the kernel lists them.
func MountPoints() ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			points = append(points, Unescape(f[4]))
		}
	}
	return points, nil
}
