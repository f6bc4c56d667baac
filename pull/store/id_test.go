package store

import (
	"regexp"
	"testing"
)

// FuzzIsIDPrefix holds the hand-written image ID check against the
// regexp it replaced (compiling that regexp at start-up cost every
// program that links the store).
func FuzzIsIDPrefix(f *testing.F) {
	re := regexp.MustCompile(`^(sha256:)?[0-9a-f]{12,64}$`)
	for _, s := range []string{"", "0123456789ab", "0123456789a", "sha256:0123456789ab", "sha256:", "sha256:sha256:0123456789ab",
		"0123456789AB", "debian", "sha512:0123456789ab", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isIDPrefix(s), re.MatchString(s); got != want {
			t.Fatalf("isIDPrefix(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}

// TestHumanBytes: binary units with one decimal, as df -h.
func TestHumanBytes(t *testing.T) {
	for f, want := range map[float64]string{0: "0.0B", 1023: "1023.0B", 1536: "1.5KiB", 5 << 30: "5.0GiB"} {
		if got := humanBytes(f); got != want {
			t.Errorf("humanBytes(%v) = %q, want %q", f, got, want)
		}
	}
}
