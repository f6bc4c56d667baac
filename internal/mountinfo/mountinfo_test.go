package mountinfo

import (
	"strings"
	"testing"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`:  "/mnt/a b",
		`/mnt/tab\011`: "/mnt/tab\t", // an escape at the very end
		`back\134x`:    `back\x`,
		`odd\09`:       `odd\09`, // not three octal digits: kept
		`\777`:         `\777`,   // over a byte: kept
		`plain`:        "plain",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzUnescape: never longer than its input, and the identity on text
// without a backslash.
func FuzzUnescape(f *testing.F) {
	f.Add(`/a\040b`)
	f.Add(`\`)
	f.Fuzz(func(t *testing.T, s string) {
		got := Unescape(s)
		if len(got) > len(s) || (!strings.Contains(s, `\`) && got != s) {
			t.Fatalf("Unescape(%q) = %q", s, got)
		}
	})
}
