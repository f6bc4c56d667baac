package newlayer_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/pull/store"
)

// rootfsTar is a small root filesystem as docker export writes one: a
// folder, a file, a symlink and a hard link.
func rootfsTar(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range []*tar.Header{
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		{Name: "etc/link", Typeflag: tar.TypeSymlink, Linkname: "motd"},
		{Name: "etc/hard", Typeflag: tar.TypeLink, Linkname: "etc/motd"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("hi\n"))
		}
	}
	tw.Close()
	return b.Bytes()
}

// TestImport: the tar becomes one layer whose diffID is the sha256 of
// the uncompressed stream (Docker's), whatever the compression; the
// image is untagged until named, and a hostile tar leaves nothing.
func TestImport(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	plain := rootfsTar(t)
	sum := sha256.Sum256(plain)
	wantDiffID := "sha256:" + hex.EncodeToString(sum[:])
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	ze, _ := zstd.NewWriter(&zs)
	ze.Write(plain)
	ze.Close()

	var ids []string
	for _, tc := range []struct {
		name, ref string
		data      []byte
	}{{"plain", "imp:plain", plain}, {"gzip", "imp:gzip", gz.Bytes()}, {"zstd", "", zs.Bytes()}} {
		img, err := newlayer.Import(s, bytes.NewReader(tc.data), newlayer.ImportOptions{Ref: tc.ref, Source: "-"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ids = append(ids, img.ID.String())
		if got := img.Config.RootFS.DiffIDs; len(got) != 1 || got[0].String() != wantDiffID {
			t.Errorf("%s: diff IDs %v, want [%s]", tc.name, got, wantDiffID)
		}
		if h := img.Config.History; len(h) != 1 || h[0].Comment != "Imported from -" || h[0].EmptyLayer {
			t.Errorf("%s: history %+v", tc.name, h)
		}
		motd, err := os.ReadFile(filepath.Join(img.LayerDirs[0], "etc/hard"))
		if link, _ := os.Readlink(filepath.Join(img.LayerDirs[0], "etc/link")); err != nil || string(motd) != "hi\n" || link != "motd" {
			t.Errorf("%s: unpacked layer: etc/hard %q %v, etc/link -> %q", tc.name, motd, err, link)
		}
		if found, err := s.Lookup(img.ID.String()); err != nil {
			t.Errorf("%s: lookup by ID: %v", tc.name, err)
		} else if imageops.FamiliarRef(found.Ref) != tc.ref {
			t.Errorf("%s: found by ID under %q, want %q", tc.name, found.Ref, tc.ref)
		}
	}
	// The untagged image is kept by its unnamed index entry; a tag
	// replaces that entry, and rmi by ID removes only that image.
	if _, err := s.Prune(); err != nil {
		t.Fatal(err)
	}
	untagged, err := s.Lookup(ids[2])
	if err != nil {
		t.Fatalf("the untagged image did not survive a prune: %v", err)
	}
	list, _ := s.List()
	if len(list) != 3 {
		t.Errorf("%d images, want 3", len(list))
	}
	if _, err := s.Remove(untagged.ID.String()); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Errorf("after rmi of the untagged image: %d images, want 2", len(list))
	}

	// Hostile entries: pull's unpacker refuses them and nothing is left
	// in the ingest folder or among the layers.
	layersBefore, _ := os.ReadDir(filepath.Join(s.Root, "layers"))
	for name, hdrs := range map[string][]*tar.Header{
		"dotdot":         {{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644}},
		"through-link":   {{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "evil/pwned", Typeflag: tar.TypeReg, Mode: 0o644}},
		"not-a-tar-file": nil,
	} {
		var b bytes.Buffer
		if hdrs == nil {
			b.WriteString(strings.Repeat("not a tar ", 100))
		} else {
			tw := tar.NewWriter(&b)
			for _, h := range hdrs {
				tw.WriteHeader(h)
			}
			tw.Close()
		}
		if _, err := newlayer.Import(s, &b, newlayer.ImportOptions{Ref: "imp:" + name, Source: "-"}); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(s.Root, "ingest")); len(left) > 0 {
		t.Errorf("ingest left: %v", left)
	}
	if after, _ := os.ReadDir(filepath.Join(s.Root, "layers")); len(after) != len(layersBefore) {
		t.Errorf("layers: %d before, %d after the refused imports", len(layersBefore), len(after))
	}
	if _, err := os.Lstat("/tmp/pwned"); err == nil {
		t.Errorf("/tmp/pwned written through the symlink")
	}
}
