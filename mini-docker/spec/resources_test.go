package spec

import (
	"path"
	"testing"
)

// FuzzParseDevice: a --device value Docker's CLI accepts has an
// absolute, clean container path and permissions of r, w and m each at
// most once, and written back as HOST:CONTAINER:PERMISSIONS it parses
// the same.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{"/dev/fuse", "/dev/fuse:/dev/x", "/dev/fuse:rw", "/dev/fuse:/dev/x:rwm", "/dev/fuse:rel", "/dev/fuse:/x:zz", ":x", "a:b:c:d", "/d:/x/../y:mr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseDevice(s)
		if err != nil {
			return
		}
		if !path.IsAbs(m.PathInContainer) || path.Clean(m.PathInContainer) != m.PathInContainer || !deviceMode(m.CgroupPermissions) {
			t.Fatalf("ParseDevice(%q) = %+v", s, m)
		}
		again, err := ParseDevice(m.PathOnHost + ":" + m.PathInContainer + ":" + m.CgroupPermissions)
		if err != nil || again != m {
			t.Fatalf("ParseDevice(%q) = %+v; written back it parses as %+v, %v", s, m, again, err)
		}
	})
}
