package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// Layout writes an OCI image layout (oci-layout, index.json, blobs/) in a
// folder, from which skopeo pushes images to a registry. Images are made
// here, offline, so the registry holds what another real tool wrote.
type Layout struct {
	Dir   string
	index ocispec.Index
}

// NewLayout starts an empty OCI layout in a temporary folder.
func NewLayout(t testing.TB) *Layout {
	t.Helper()
	l, err := CreateLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// CreateLayout starts an empty OCI layout in dir.
func CreateLayout(dir string) (*Layout, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageLayoutFile),
		[]byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	l := &Layout{Dir: dir, index: ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex}}
	return l, l.writeIndex()
}

// AddBlob stores data and returns its descriptor.
func (l *Layout) AddBlob(mediaType string, data []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(data)
	p := filepath.Join(l.Dir, "blobs", "sha256", d.Encoded())
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}, nil
}

// addJSON stores v, marshalled to JSON, as a blob of mediaType (an
// image's config, manifest or index) and returns its descriptor.
func (l *Layout) addJSON(mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return l.AddBlob(mediaType, b)
}

// AddBlobFile stores the file at path as a blob (copied) and returns its
// descriptor.
func (l *Layout) AddBlobFile(mediaType, path string) (ocispec.Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	tmp, err := os.CreateTemp(filepath.Join(l.Dir, "blobs"), "tmp-")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), f)
	tmp.Close()
	if err != nil {
		os.Remove(tmp.Name())
		return ocispec.Descriptor{}, err
	}
	d := digest.NewDigest(digest.SHA256, h)
	if err := os.Rename(tmp.Name(), filepath.Join(l.Dir, "blobs", "sha256", d.Encoded())); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: n}, nil
}

// Layer is one layer of an image made for the tests.
type Layer struct {
	// Tar is an uncompressed tar stream; it is gzipped into the blob
	// unless Uncompressed is set.
	Tar          []byte
	Uncompressed bool
	// TarGz is the path of an already gzip-compressed tar stream.
	TarGz string
	// Comment becomes the history entry's created_by.
	Comment string
}

// Image describes an image made for the tests.
type Image struct {
	Config       ocispec.ImageConfig
	Layers       []Layer // base first
	OS           string  // default linux
	Architecture string  // default the host's (runtime.GOARCH)
	Variant      string
}

// AddImage writes the layers, config and manifest of img and returns the
// manifest's descriptor (with its platform set, for use in an index).
func (l *Layout) AddImage(img Image) (ocispec.Descriptor, error) {
	cfg := ocispec.Image{
		Platform: ocispec.Platform{OS: img.OS, Architecture: img.Architecture, Variant: img.Variant},
		Config:   img.Config,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	if cfg.Architecture == "" {
		cfg.Architecture = runtime.GOARCH
	}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.Created = &created
	var layers []ocispec.Descriptor
	for i, layer := range img.Layers {
		var desc ocispec.Descriptor
		var diffID digest.Digest
		var err error
		switch {
		case layer.TarGz != "":
			diffID, err = gunzipDigest(layer.TarGz)
			if err == nil {
				desc, err = l.AddBlobFile(ocispec.MediaTypeImageLayerGzip, layer.TarGz)
			}
		case layer.Uncompressed:
			diffID = digest.FromBytes(layer.Tar)
			desc, err = l.AddBlob(ocispec.MediaTypeImageLayer, layer.Tar)
		default:
			diffID = digest.FromBytes(layer.Tar)
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(layer.Tar)
			zw.Close()
			desc, err = l.AddBlob(ocispec.MediaTypeImageLayerGzip, gz.Bytes())
		}
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layer %d: %w", i, err)
		}
		layers = append(layers, desc)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		comment := layer.Comment
		if comment == "" {
			comment = fmt.Sprintf("mini-docker test layer %d", i)
		}
		cfg.History = append(cfg.History, ocispec.History{Created: &created, CreatedBy: comment})
	}
	cfgDesc, err := l.addJSON(ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfgDesc, Layers: layers}
	desc, err := l.addJSON(ocispec.MediaTypeImageManifest, m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	return desc, nil
}

// AddIndex writes an image index over manifests (multi-platform image).
func (l *Layout) AddIndex(manifests ...ocispec.Descriptor) (ocispec.Descriptor, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: manifests}
	return l.addJSON(ocispec.MediaTypeImageIndex, idx)
}

// Tag names desc in the layout's index.json (org.opencontainers.image.ref.name).
func (l *Layout) Tag(desc ocispec.Descriptor, name string) error {
	desc.Annotations = map[string]string{ocispec.AnnotationRefName: name}
	desc.Platform = nil
	kept := l.index.Manifests[:0]
	for _, m := range l.index.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] != name {
			kept = append(kept, m)
		}
	}
	l.index.Manifests = append(kept, desc)
	return l.writeIndex()
}

func (l *Layout) writeIndex() error {
	if l.index.Manifests == nil {
		l.index.Manifests = []ocispec.Descriptor{}
	}
	b, err := json.Marshal(l.index)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.Dir, "index.json"), b, 0o644)
}

// PushFormat chooses the manifest format skopeo writes to the registry.
type PushFormat string

const (
	FormatOCI    PushFormat = "oci"
	FormatDocker PushFormat = "v2s2" // Docker image manifest v2, schema 2
)

// Push copies the layout's image tagged name to the registry as repoTag
// ("library/busybox:latest") with skopeo. With all set, every manifest of
// an index is copied (a multi-platform image).
func (l *Layout) Push(name string, r *Registry, repoTag string, format PushFormat, all bool) error {
	args := []string{"copy", "--quiet", "--dest-tls-verify=false", "--insecure-policy"}
	if format == FormatDocker {
		args = append(args, "--format", "v2s2")
	}
	if all {
		args = append(args, "--all")
	}
	if r.User != "" {
		args = append(args, "--dest-creds", r.User+":"+r.Pass)
	}
	args = append(args, "oci:"+l.Dir+":"+name, "docker://"+r.Ref(repoTag))
	out, err := exec.Command("skopeo", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// PushImage makes img in a fresh layout and pushes it to r as repoTag,
// returning the layout (for tests that compare with what was pushed).
func PushImage(t testing.TB, r *Registry, repoTag string, img Image, format PushFormat) *Layout {
	t.Helper()
	RequireCommand(t, "skopeo")
	l := NewLayout(t)
	desc, err := l.AddImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(desc, "image"); err != nil {
		t.Fatal(err)
	}
	if err := l.Push("image", r, repoTag, format, false); err != nil {
		t.Fatal(err)
	}
	return l
}

// The names under which the standard images are pushed. docker.io's
// official images live under library/, so a registry mirror for
// docker.io serves `debian` from library/debian.
const (
	BusyboxRepo   = "library/busybox:latest"
	DebianRepo    = "library/debian:bookworm"
	DebianLatest  = "library/debian:latest"
	DebianCommand = "bash"
)

// PushBusybox pushes the busybox image (Docker schema 2 manifest, one
// layer: the static busybox binary and its applet links) to r once per
// registry, and returns its reference on r.
func PushBusybox(t testing.TB, r *Registry) string {
	t.Helper()
	if err := r.once(BusyboxRepo, func() error { return pushBusybox(r) }); err != nil {
		t.Fatal(err)
	}
	return r.Ref(BusyboxRepo)
}

// PushDebian pushes the debian:bookworm image (OCI manifest, one layer
// from the cached debootstrap tarball), also tagged latest, to r once per
// registry, and returns its reference on r.
func PushDebian(t testing.TB, r *Registry) string {
	t.Helper()
	if err := r.once(DebianRepo, func() error { return pushDebian(r) }); err != nil {
		t.Fatal(err)
	}
	return r.Ref(DebianRepo)
}

// PushStandardImages pushes busybox and debian (for the lesson runner and
// the demo, which have no testing.TB at hand for the pushes).
func PushStandardImages(r *Registry) error {
	if err := r.once(BusyboxRepo, func() error { return pushBusybox(r) }); err != nil {
		return err
	}
	return r.once(DebianRepo, func() error { return pushDebian(r) })
}

func (r *Registry) once(key string, push func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pushed[key] {
		return nil
	}
	if err := push(); err != nil {
		return err
	}
	r.pushed[key] = true
	return nil
}

func pushBusybox(r *Registry) error {
	root, err := os.MkdirTemp("", "busybox-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := MakeBusyboxRootfs(root); err != nil {
		return err
	}
	tarData, err := TarDir(root)
	if err != nil {
		return err
	}
	return pushOne(r, FormatDocker, "sh", Layer{Tar: tarData, Comment: "ADD busybox-static rootfs /"}, BusyboxRepo)
}

func pushDebian(r *Registry) error {
	tarball, err := EnsureDebianTar()
	if err != nil {
		return err
	}
	return pushOne(r, FormatOCI, DebianCommand,
		Layer{TarGz: tarball, Comment: "debootstrap --variant=minbase --include=iproute2,procps bookworm"},
		DebianRepo, DebianLatest)
}

// pushOne makes a one-layer image with Docker's default PATH and cmd in a
// temporary layout and pushes it to r under each of repoTags.
func pushOne(r *Registry, format PushFormat, cmd string, layer Layer, repoTags ...string) error {
	dir, err := os.MkdirTemp("", "image-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := CreateLayout(dir)
	if err != nil {
		return err
	}
	desc, err := l.AddImage(Image{
		Config: ocispec.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{cmd}},
		Layers: []Layer{layer},
	})
	if err != nil {
		return err
	}
	if err := l.Tag(desc, "image"); err != nil {
		return err
	}
	for _, rt := range repoTags {
		if err := l.Push("image", r, rt, format, false); err != nil {
			return err
		}
	}
	return nil
}

func gunzipDigest(path string) (digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// TarDir returns an uncompressed tar stream of dir's contents, with
// numeric owners, modes, mtimes, symlinks, hardlinks, device nodes and
// xattrs, in a stable (sorted) order.
func TarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	inodes := map[uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		st := fi.Sys().(*syscall.Stat_t)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = int(st.Uid), int(st.Gid), "", ""
		hdr.Format = tar.FormatPAX
		if fi.Mode().IsRegular() && st.Nlink > 1 {
			if first, ok := inodes[st.Ino]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				inodes[st.Ino] = rel
			}
		}
		if x := xattrs(p); len(x) > 0 {
			hdr.PAXRecords = map[string]string{}
			for k, v := range x {
				hdr.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func xattrs(p string) map[string]string {
	size, err := unix.Llistxattr(p, nil)
	if err != nil || size <= 0 {
		return nil
	}
	names := make([]byte, size)
	size, err = unix.Llistxattr(p, names)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, name := range strings.Split(strings.TrimRight(string(names[:size]), "\x00"), "\x00") {
		n, err := unix.Lgetxattr(p, name, nil)
		if err != nil || n < 0 {
			continue
		}
		val := make([]byte, n)
		n, err = unix.Lgetxattr(p, name, val)
		if err == nil {
			out[name] = string(val[:n])
		}
	}
	return out
}
