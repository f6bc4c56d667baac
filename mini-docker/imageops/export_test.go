package imageops

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAppendInitLooksInsideTheRoot: a root whose etc is a symlink to a
// host path gets the same init entries whether or not that host path
// holds hosts, hostname, resolv.conf: the lookups stay inside the root,
// so an export never tells whoever runs it about the host's files.
func TestAppendInitLooksInsideTheRoot(t *testing.T) {
	root := t.TempDir()
	probe := filepath.Join(t.TempDir(), "probe")
	if err := os.Symlink(probe, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	entries := func() []string {
		var empty, out bytes.Buffer
		tar.NewWriter(&empty).Close()
		if err := appendInit(&out, &empty, root); err != nil {
			t.Fatal(err)
		}
		var names []string
		tr := tar.NewReader(&out)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return names
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, hdr.Name)
		}
	}
	absent := entries()
	if err := os.MkdirAll(probe, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hosts", "hostname", "resolv.conf", "mtab"} {
		os.WriteFile(filepath.Join(probe, f), nil, 0o644)
	}
	if present := entries(); !slices.Equal(present, absent) {
		t.Errorf("the init entries depend on the host's %s: %q when it is absent, %q when it holds the files", probe, absent, present)
	}
	if !slices.Contains(absent, "proc/") {
		t.Errorf("init entries %q: no proc/", absent)
	}
}
