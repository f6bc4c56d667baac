package unpack

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzUnpack feeds arbitrary tar streams to the unpacker, each into a
// scratch root of its own, and checks that nothing was created or
// changed outside it: not next to it, and not in a folder holding a
// canary that the seeds aim at with "..", absolute names, symlinks and
// hardlinks. A budget of 16 MiB keeps a sparse entry from filling the
// disk. Root is not needed (as a user, chown and mknod fail early).
func FuzzUnpack(f *testing.F) {
	outside := f.TempDir()
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte("canary"), 0o644); err != nil {
		f.Fatal(err)
	}
	base := f.TempDir()
	rel, _ := filepath.Rel(base, outside) // "../001": from a scratch root, "../" + rel is outside
	for _, seed := range [][]tar.Header{
		{dir("etc"), reg("etc/passwd", "root:x:0:0"), symlink("etc/link", "passwd"), hardlink("etc/hard", "etc/passwd")},
		{reg("../"+rel+"/canary", "pwned")},
		{reg("/"+outside[1:]+"/canary", "pwned")},
		{symlink("x", outside), reg("x/canary", "pwned"), reg("x/new", "pwned")},
		{symlink("x", "../../../../../../"+outside), dir("x/sub"), reg("x/sub/f", "pwned")},
		{hardlink("h", canary), reg("h", "pwned")},
		{hardlink("h", "../../../../../../"+canary)},
		{symlink("d", outside), hardlink("d/canary2", "etc/passwd")},
		{dir("a"), reg("a/f", "x"), reg("a/.wh.f", ""), reg("a/.wh..wh..opq", ""), reg(".wh.gone", "")},
		{{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}, {Typeflag: tar.TypeFifo, Name: "fifo"}},
		{{Typeflag: tar.TypeReg, Name: "x", PAXRecords: map[string]string{"SCHILY.xattr.user.a": "b", "SCHILY.xattr.trusted.overlay.opaque": "y"}}},
		{dir("."), dir("./a/../b"), reg("b//c", "c")},
	} {
		b, err := tarStream(seed...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, layer []byte) {
		root, err := os.MkdirTemp(base, "root-")
		if err != nil {
			t.Fatal(err)
		}
		defer forceRemove(root)
		const budget = 16 << 20
		var written int64
		UnpackCharged(bytes.NewReader(layer), root, func(n int64) error {
			if written += n; written > budget {
				return errors.New("fuzz budget")
			}
			return nil
		})
		if entries, _ := os.ReadDir(base); len(entries) != 1 {
			t.Fatalf("%d entries next to the scratch root", len(entries))
		}
		entries, _ := os.ReadDir(outside)
		var st unix.Stat_t
		unix.Lstat(canary, &st)
		b, _ := os.ReadFile(canary)
		if len(entries) != 1 || string(b) != "canary" || st.Nlink != 1 || st.Mode&unix.S_IFMT != unix.S_IFREG {
			t.Fatalf("outside the root: %d entries, canary %q nlink %d mode %o", len(entries), b, st.Nlink, st.Mode)
		}
	})
}

// forceRemove removes a tree whatever modes the layer gave its folders.
func forceRemove(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(root)
}
