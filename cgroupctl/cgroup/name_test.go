package cgroup

import (
	"regexp"
	"testing"
)

// FuzzValidName holds the hand-written name check against the regexp it
// replaced (compiling that regexp at start-up cost every program).
func FuzzValidName(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	for _, s := range []string{"", "t1", "_a", ".a", "-a", "a.-_b", "a/b", "a b", "é", "mini-docker", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validName(s), re.MatchString(s); got != want {
			t.Fatalf("validName(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
