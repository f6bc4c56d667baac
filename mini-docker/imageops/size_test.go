package imageops

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnpackedSizeCountsAsDocker: an unpacked layer's size is what
// moby's overlay2 counts (directory.Size): a hard-linked file once, a
// symbolic link by its target's length, directories nothing, so that
// docker images' SIZE agrees (busybox 1.99MB, debian:bookworm 133MB
// here, as Docker's own).
func TestUnpackedSizeCountsAsDocker(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), []byte("0123456789"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "bin", "busybox"), filepath.Join(dir, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("abc", filepath.Join(dir, "bin", "ls")); err != nil {
		t.Fatal(err)
	}
	if got := UnpackedSize([]string{dir, t.TempDir()}); got != 13 {
		t.Errorf("UnpackedSize = %d, want 13 (10 for the file and its hard link, 3 for the symlink)", got)
	}
}
