package remote

import (
	"strings"
	"testing"
)

// FuzzChecksumAndURLName: --checksum accepts only sha256 with 64 hex
// digits (returned lower case), and a URL's file name is one path
// element, never "..", so a download stays in its folder.
func FuzzChecksumAndURLName(f *testing.F) {
	for _, seed := range []string{"sha256:" + strings.Repeat("a", 64), "sha512:x", "sha256:", "http://h/a/b.txt", "http://h/..", "http://h/a/%2e%2e", "https://h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sum, err := ParseChecksum(s); err == nil && (len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "") {
			t.Fatalf("ParseChecksum(%q) = %q", s, sum)
		}
		if name, err := FileName(s); err == nil && (name == "" || name == "." || name == ".." || strings.Contains(name, "/")) {
			t.Fatalf("FileName(%q) = %q", s, name)
		}
	})
}
