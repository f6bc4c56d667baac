package reference

import (
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
)

// FuzzParse: any string either is refused or gives a reference that is
// complete (domain, path, a tag or a valid digest) and that prints back
// to itself: Parse(r.String()) and Parse(r.Familiar()) give r again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ubuntu", "ubuntu:22.04", "user/app:1.0", "localhost/a", "localhost:5000/a/b:c",
		"127.0.0.1:5000/library/busybox:latest", "[::1]:5000/x", "docker.io/library/debian",
		"index.docker.io/x/y", "Host.Example:443/a_b/c-d.e:tag_1",
		"name@sha256:" + digest.FromString("x").Encoded(), "a:b@sha256:" + digest.FromString("y").Encoded(),
		"Ubuntu", "ubuntu:-x", "", ":", "@", "a//b", "a/../b", "sha256:../../x",
		digest.FromString("z").Encoded(), "a@sha256:ZZ", "a@sha512:" + digest.SHA512.FromString("x").Encoded(),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The hand-written match agrees with the expression wherever it answers.
		if m, ok := matchPlain(s); ok {
			if re := referenceRE().FindStringSubmatch(s); !slices.Equal(m, re) {
				t.Fatalf("matchPlain(%q) = %q, the expression %q", s, m, re)
			}
		}
		r, err := Parse(s)
		if err != nil {
			return
		}
		if r.Domain == "" || r.Path == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("Parse(%q) = %+v: incomplete", s, r)
		}
		if r.Digest != "" {
			if err := r.Digest.Validate(); err != nil {
				t.Fatalf("Parse(%q) accepted digest %q: %v", s, r.Digest, err)
			}
		}
		for _, again := range []string{r.String(), r.Familiar()} {
			r2, err := Parse(again)
			if err != nil || r2 != r {
				t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v, %v", s, r, again, r2, err)
			}
		}
	})
}
