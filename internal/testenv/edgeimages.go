package testenv

import (
	"archive/tar"
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The edge-case and malicious images of the pull tests (lesson 08): made
// in memory as tar streams, pushed with skopeo like every test image.

// TarEntry is one entry of a layer made with LayerTar: a header, and for
// a regular file its content.
type TarEntry struct {
	tar.Header
	Content string
}

// File, Dir, Symlink, Hardlink, Device, Whiteout and Opaque make entries.
func File(name, content string) TarEntry {
	return TarEntry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}, Content: content}
}
func Dir(name string) TarEntry {
	return TarEntry{Header: tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755}}
}
func Symlink(name, target string) TarEntry {
	return TarEntry{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}
func Hardlink(name, target string) TarEntry {
	return TarEntry{Header: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}
func Device(name string, typ byte, major, minor int64) TarEntry {
	return TarEntry{Header: tar.Header{Typeflag: typ, Name: name, Mode: 0o666, Devmajor: major, Devminor: minor}}
}

// Whiteout deletes name (in the layers below) the OCI way: ".wh.NAME".
func Whiteout(name string) TarEntry {
	i := strings.LastIndex(name, "/")
	return File(name[:i+1]+".wh."+name[i+1:], "")
}

// Opaque hides what the layers below hold in dir: "dir/.wh..wh..opq".
func Opaque(dir string) TarEntry { return File(dir+"/.wh..wh..opq", "") }

// LayerTar writes entries as an uncompressed tar stream (PAX, so xattrs
// in PAXRecords survive). Mtimes default to 2024-01-01.
func LayerTar(entries ...TarEntry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		if h.ModTime.IsZero() {
			h.ModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Content))
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			panic("LayerTar " + h.Name + ": " + err.Error())
		}
		tw.Write([]byte(e.Content))
	}
	tw.Close()
	return buf.Bytes()
}

// Edge-image facts the tests check in the merged view.
const (
	EdgeRepo       = "edge/layers:latest"
	EdgeMtime      = 1600000000 // mtime of etc/keep
	EdgeXattr      = "user.mini-docker"
	EdgeXattrValue = "kept"
)

// EdgeImage has three layers that exercise what unpacking must get right:
//
//	layer 1 (gzip): files, dirs, a hardlink pair, absolute and relative
//	  symlinks, char/block devices, a fifo, a set-uid file, owners, an
//	  xattr, an mtime
//	layer 2 (gzip): whiteouts (etc/gone, olddir), an opaque var/cache,
//	  a changed etc/keep, a new etc/added
//	layer 3 (uncompressed): olddir made again with only y, the second
//	  name of the hardlink pair deleted
//
// Merged: etc/{keep=v2,added}, var/cache/{new}, olddir/{y}, bin/tool and
// bin/tool2 (hardlinked), no etc/gone, bin/tool-link, var/cache/{a,b}.
func EdgeImage() Image {
	keep := File("etc/keep", "v1")
	keep.ModTime = time.Unix(EdgeMtime, 0)
	keep.PAXRecords = map[string]string{"SCHILY.xattr." + EdgeXattr: EdgeXattrValue}
	su := File("bin/su", "#!/bin/false\n")
	su.Mode = 0o4755
	owned := File("home/user/file", "mine")
	owned.Uid, owned.Gid = 1000, 1001
	home := Dir("home/user")
	home.Uid, home.Gid, home.Mode = 1000, 1001, 0o700
	keep2 := File("etc/keep", "v2")
	keep2.ModTime = time.Unix(EdgeMtime, 0)
	keep2.PAXRecords = keep.PAXRecords
	return Image{
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/tool"}},
		Layers: []Layer{
			{Comment: "base", Tar: LayerTar(
				Dir("bin"), File("bin/tool", "tool"), Hardlink("bin/tool-link", "bin/tool"), Hardlink("bin/tool2", "bin/tool"),
				Symlink("bin/sh", "/bin/tool"), su,
				Dir("dev"), Device("dev/null", tar.TypeChar, 1, 3), Device("dev/loop0", tar.TypeBlock, 7, 0),
				Dir("etc"), keep, File("etc/gone", "bye"),
				Dir("home"), home, owned,
				Dir("olddir"), File("olddir/x", "x"),
				Dir("run"), Device("run/fifo", tar.TypeFifo, 0, 0),
				Dir("usr"), Dir("usr/lib"), File("usr/lib/libx.so", "lib"), Symlink("lib", "usr/lib"),
				Dir("var"), Dir("var/cache"), File("var/cache/a", "a"), File("var/cache/b", "b"),
			)},
			{Comment: "whiteouts", Tar: LayerTar(
				Dir("etc"), Whiteout("etc/gone"), keep2, File("etc/added", "added"),
				Whiteout("olddir"),
				Dir("var/cache"), Opaque("var/cache"), File("var/cache/new", "new"),
			)},
			{Comment: "again", Uncompressed: true, Tar: LayerTar(
				Dir("olddir"), File("olddir/y", "y"), Whiteout("bin/tool-link"),
			)},
		},
	}
}

// PushEdgeImage pushes EdgeImage to r and returns its reference.
func PushEdgeImage(t testing.TB, r *Registry) string {
	t.Helper()
	if err := r.once(EdgeRepo, func() error {
		l, err := CreateLayout(t.TempDir())
		if err != nil {
			return err
		}
		desc, err := l.AddImage(EdgeImage())
		if err == nil {
			err = l.Tag(desc, "edge")
		}
		if err == nil {
			err = l.Push("edge", r, EdgeRepo, FormatOCI, false)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return r.Ref(EdgeRepo)
}

// MaliciousImages returns single-layer images that try to write outside
// the layer root, each aiming at canaryDir (which holds a file "canary"):
// "../" traversal, an absolute path, writes through an absolute and a
// relative symlink, hardlinks out of the root and through a symlink.
func MaliciousImages(canaryDir string) map[string]Image {
	up := strings.Repeat("../", 40)
	rel := up + strings.TrimPrefix(canaryDir, "/")
	layers := map[string][]TarEntry{
		"dotdot":           {File(rel+"/pwned", "pwned")},
		"absolute":         {File(canaryDir+"/pwned", "pwned")},
		"symlink-abs":      {Symlink("escape", canaryDir), File("escape/pwned", "pwned")},
		"symlink-rel":      {Symlink("escape", rel), File("escape/pwned", "pwned")},
		"symlink-nested":   {Dir("a"), Symlink("a/up", "../"+up), File("a/up/"+strings.TrimPrefix(canaryDir, "/")+"/pwned", "pwned")},
		"hardlink-out":     {Hardlink("stolen", rel+"/canary")},
		"hardlink-abs":     {Hardlink("stolen", canaryDir+"/canary")},
		"hardlink-symlink": {Symlink("d", canaryDir), Hardlink("stolen", "d/canary")},
		"overwrite-canary": {Symlink("c", canaryDir+"/canary"), File("c", "pwned")}, // contained: replaces the link
	}
	out := map[string]Image{}
	for name, entries := range layers {
		out[name] = Image{Config: ocispec.ImageConfig{Cmd: []string{"/pwned"}}, Layers: []Layer{{Tar: LayerTar(entries...), Comment: name}}}
	}
	return out
}

// PushMaliciousImages pushes MaliciousImages(canaryDir) to r as
// evil/NAME:latest and returns name → reference.
func PushMaliciousImages(t testing.TB, r *Registry, canaryDir string) map[string]string {
	t.Helper()
	refs := map[string]string{}
	for name, img := range MaliciousImages(canaryDir) {
		PushImage(t, r, "evil/"+name+":latest", img, FormatOCI)
		refs[name] = r.Ref("evil/" + name + ":latest")
	}
	return refs
}

// PushZstdImage pushes a one-layer image whose layer is zstd-compressed
// (application/vnd.oci.image.layer.v1.tar+zstd) and returns its reference
// and the layer's uncompressed tar.
func PushZstdImage(t testing.TB, r *Registry) (string, []byte) {
	t.Helper()
	RequireCommand(t, "skopeo")
	layer := LayerTar(Dir("etc"), File("etc/zstd", "compressed with zstd"), Symlink("etc/link", "zstd"))
	var z bytes.Buffer
	zw, err := zstd.NewWriter(&z)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(layer)
	zw.Close()
	l := NewLayout(t)
	ldesc, err := l.AddBlob(ocispec.MediaTypeImageLayerZstd, z.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := ocispec.Image{Created: &created, Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}}}
	cdesc, err := l.addJSON(ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		t.Fatal(err)
	}
	mdesc, err := l.addJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cdesc, Layers: []ocispec.Descriptor{ldesc}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(mdesc, "zstd"); err != nil {
		t.Fatal(err)
	}
	if err := l.Push("zstd", r, "edge/zstd:latest", FormatOCI, false); err != nil {
		t.Fatal(err)
	}
	return r.Ref("edge/zstd:latest"), layer
}
