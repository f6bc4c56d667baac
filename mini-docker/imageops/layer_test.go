package imageops_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/imageops"
)

// TestWriteLayerTarMarkers: an upper dir's overlay markers become OCI
// names: a 0/0 device → ".wh.NAME", an opaque folder → its
// ".wh..wh..opq" entry; both names of a hard-linked file are listed.
func TestWriteLayerTarMarkers(t *testing.T) {
	testenv.RequireRoot(t)
	upper := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(upper, "etc"), 0o755))
	must(unix.Mknod(filepath.Join(upper, "etc", "motd"), unix.S_IFCHR, 0))
	must(os.MkdirAll(filepath.Join(upper, "var", "cache"), 0o755))
	must(unix.Setxattr(filepath.Join(upper, "var", "cache"), "trusted.overlay.opaque", []byte("y"), 0))
	must(os.WriteFile(filepath.Join(upper, "var", "cache", "new"), []byte("fresh"), 0o644))
	must(os.Link(filepath.Join(upper, "var", "cache", "new"), filepath.Join(upper, "var", "cache", "again")))
	var buf bytes.Buffer
	must(imageops.WriteLayerTar(&buf, upper))
	got := tarNames(t, bytes.NewReader(buf.Bytes()))
	for _, want := range []string{"etc", "etc/.wh.motd", "var/cache", "var/cache/.wh..wh..opq", "var/cache/new", "var/cache/again"} {
		if !contains(got, want) {
			t.Errorf("layer tar lacks %q: %q", want, got)
		}
	}
	if contains(got, "etc/motd") {
		t.Errorf("the whiteout device itself is in the tar: %q", got)
	}
}

// TestHumanSize: docker images' SIZE column (decimal units, 3 digits).
func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 999: "999B", 1000: "1kB", 74_800_000: "74.8MB", 1_234_567_890: "1.23GB"} {
		if got := imageops.HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
