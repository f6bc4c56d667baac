package registry

import (
	"strings"
	"testing"
)

// FuzzParseChallenge: any WWW-Authenticate value either is refused or
// gives a lower-case scheme and parameters that survive being written
// back as a header (every value quoted, '\' and '"' escaped) and parsed
// again.
func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"`,
		`Basic realm="Registry Realm"`,
		`Bearer realm=https://a/token,service=reg`,
		`Bearer realm="a\"b",error="insufficient_scope"`,
		`bearer  realm = "x" , service="y",`,
		`Bearer realm="unterminated`, `Bearer novalue`, ``, `   `, `Bearer`, `Basic ,,,`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseChallenge(header)
		if err != nil {
			return
		}
		if c.Scheme == "" || c.Scheme != strings.ToLower(c.Scheme) || strings.ContainsAny(c.Scheme, " ") {
			t.Fatalf("ParseChallenge(%q): scheme %q", header, c.Scheme)
		}
		var parts []string
		for k, v := range c.Params {
			if k != strings.ToLower(k) {
				t.Fatalf("ParseChallenge(%q): key %q not lower case", header, k)
			}
			parts = append(parts, k+`="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"`)
		}
		again := c.Scheme + " " + strings.Join(parts, ", ")
		c2, err := ParseChallenge(again)
		if err != nil || c2.Scheme != c.Scheme || len(c2.Params) != len(c.Params) {
			t.Fatalf("ParseChallenge(%q) = %+v; written back as %q it parses as %+v, %v", header, c, again, c2, err)
		}
		for k, v := range c.Params {
			if c2.Params[k] != v {
				t.Fatalf("ParseChallenge(%q): %s = %q, written back and parsed: %q", header, k, v, c2.Params[k])
			}
		}
	})
}
