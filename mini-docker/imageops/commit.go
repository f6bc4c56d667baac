// Package image makes images out of containers, the way `docker commit`
// and `docker build` do, from the same pieces a pull stores:
//
//	upper dir of the container          what the container changed
//	  → tar (whiteouts back to .wh.)    the layer, as an OCI layer tar
//	  → sha256 of the tar               the diffID (listed in the config)
//	  → gzip → sha256                   the layer blob and its digest (in the manifest)
//	config JSON                         parent's config + Env/Cmd/... + rootfs.diff_ids + history
//	manifest JSON                       config descriptor + layer descriptors
//	index.json                          the name, pointing at the manifest
//
// The overlay upper dir spells a deletion as a 0/0 character device and
// an opaque directory as an xattr; an image layer spells them as file
// names (".wh.NAME", ".wh..wh..opq"). A commit is the pull's unpacking
// run backwards. The layer is also unpacked into <root>/layers, so the
// new image runs without a pull.
//
// Lesson 11 (lessons/11-images.md) teaches it.
package imageops

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
	"mini-docker/overlay/overlayfs"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// Image is an image as a commit or a build step makes it: manifest and
// config (with their exact bytes), and the unpacked layers to run it.
// It need not be tagged: a build's intermediate images are not.
type Image struct {
	Digest      digest.Digest // the manifest's digest
	ID          digest.Digest // the config's digest: Docker's image ID
	Manifest    ocispec.Manifest
	ManifestRaw []byte
	Config      ocispec.Image
	ConfigRaw   []byte
	LayerDirs   []string // base first
}

// Descriptor is the manifest's descriptor, what index.json and a
// registry tag point to.
func (img *Image) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: img.Digest, Size: int64(len(img.ManifestRaw)),
		Platform: &ocispec.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}}
}

// FromStore reads a stored image with its raw manifest and config.
func FromStore(s *store.Store, si *store.Image) (*Image, error) {
	img := &Image{Digest: si.Digest, ID: si.ID, Manifest: si.Manifest, Config: si.Config, ConfigRaw: si.ConfigRaw, LayerDirs: si.LayerDirs}
	var err error
	if img.ManifestRaw, err = s.ReadBlob(si.Digest); err != nil {
		return nil, err
	}
	if img.ConfigRaw == nil {
		if img.ConfigRaw, err = s.ReadBlob(si.ID); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// InspectConfig is an image's config as docker inspect shows it: the OCI
// fields and Docker's own (Healthcheck, OnBuild, Shell) side by side.
func InspectConfig(s *store.Store, si *store.Image) dockerspec.DockerOCIImageConfig {
	cfg := dockerspec.DockerOCIImageConfig{ImageConfig: si.Config.Config}
	if img, err := FromStore(s, si); err == nil {
		cfg.DockerOCIImageConfigExt = ConfigExt(img)
	}
	return cfg
}

// Lookup finds a stored image by name or ID.
func Lookup(s *store.Store, ref string) (*Image, error) {
	si, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	return FromStore(s, si)
}

// Layer is one layer blob made by a commit.
type Layer struct {
	Desc   ocispec.Descriptor // the gzip blob: media type, digest, size
	DiffID digest.Digest      // sha256 of the uncompressed tar
	Dir    string             // unpacked, in <root>/layers
}

// ignoredXattr reports whether an xattr is overlay's own bookkeeping
// (whiteouts, opaque, origin, redirect), which must not reach a layer.
func ignoredXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

// xattrs returns the extended attributes of p worth keeping in a layer
// (security.capability of a setcap binary, for instance).
func xattrs(p string) (map[string]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" || ignoredXattr(name) {
			continue
		}
		v := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			return nil, fmt.Errorf("read xattr %s of %s: %w", name, p, err)
		}
		out[name] = string(v[:m])
	}
	return out, nil
}

// WriteLayerTar writes the upper dir of a container as an OCI layer tar:
// every file, folder, link and device with its mode, owner, mtime and
// xattrs; each overlay whiteout (a 0/0 character device) as an empty
// ".wh.NAME" file; each opaque folder followed by its ".wh..wh..opq"
// marker. Names are relative ("etc/motd"), folders end with "/", and a
// file with several names is stored once and hard-linked, as docker does.
func WriteLayerTar(w io.Writer, upper string) error { return writeTar(w, upper, nil) }

// WriteCommitTar is WriteLayerTar without the mount points a run leaves
// in upper (RuntimeMountPoint): the tar of a commit or a build step.
func WriteCommitTar(w io.Writer, upper string) error { return writeTar(w, upper, RuntimeMountPoint) }

// DropMountPoints leaves out of a container's diff the files the runtime made only to bind
// /etc/hosts and friends over (Docker's init layer holds those), and a
// folder listed as changed only because of them.
func DropMountPoints(changes []overlayfs.Change, upper string) []overlayfs.Change {
	dropped := map[string]bool{}
	var kept []overlayfs.Change
	for _, ch := range changes {
		if fi, err := os.Lstat(filepath.Join(upper, ch.Path)); err == nil && ch.Kind == overlayfs.Added && RuntimeMountPoint(ch.Path, fi) {
			dropped[filepath.Dir(ch.Path)] = true
			continue
		}
		kept = append(kept, ch)
	}
	var out []overlayfs.Change
	for _, ch := range kept {
		if ch.Kind == overlayfs.Modified && dropped[ch.Path] {
			other := false
			for _, k := range kept {
				if strings.HasPrefix(k.Path, ch.Path+"/") {
					other = true
				}
			}
			if !other {
				continue
			}
		}
		out = append(out, ch)
	}
	return out
}

// RuntimeMountPoint reports whether rel ("etc/hosts") in a container's
// upper dir is only the mount point a start made for a bind-mounted
// file: an empty file at a path the runtime binds over. Docker keeps those
// in its init layer, out of the container's changes; a commit skips them.
func RuntimeMountPoint(rel string, fi fs.FileInfo) bool {
	switch strings.TrimPrefix(rel, "/") {
	case "etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv":
		return fi.Mode().IsRegular() && fi.Size() == 0
	}
	return false
}

// writeTar is WriteLayerTar, leaving out the entries skip names.
func writeTar(w io.Writer, upper string, skip func(rel string, fi fs.FileInfo) bool) error {
	tw := tar.NewWriter(w)
	seen := map[uint64]string{} // inode → first name, for hard links
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(upper, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if skip != nil && skip(rel, fi) {
			return nil
		}
		st := fi.Sys().(*syscall.Stat_t)
		if overlayfs.IsWhiteout(fi) {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: overlayfs.OCIWhiteout(rel), Mode: 0o600,
				ModTime: fi.ModTime(), Format: tar.FormatPAX})
		}
		hdr, err := tarHeader(p, rel, fi, st, seen)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		if fi.IsDir() {
			opaque, err := overlayfs.IsOpaque(p)
			if err != nil {
				return err
			}
			if opaque {
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: overlayfs.OCIOpaque(rel), Mode: 0o600,
					ModTime: fi.ModTime(), Format: tar.FormatPAX})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tar %s: %w", upper, err)
	}
	return tw.Close()
}

// tarHeader is the layer's header for the file p (rel in the layer):
// owner by number, no access or change times, a hard link to the first
// name of an inode seen before, extended attributes as PAX records.
func tarHeader(p, rel string, fi fs.FileInfo, st *syscall.Stat_t, seen map[uint64]string) (*tar.Header, error) {
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	hdr.Name, hdr.Format = rel, tar.FormatPAX
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = int(st.Uid), int(st.Gid), "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := seen[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			seen[st.Ino] = rel
		}
	}
	xa, err := xattrs(p)
	if err != nil {
		return nil, err
	}
	for k, v := range xa {
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = v
	}
	return hdr, nil
}

// Change is what a commit or build step changes in the parent's image.
type Change struct {
	Config    ocispec.ImageConfig // the new image's config (Env, Cmd, WorkingDir, User, ...)
	CreatedBy string              // the history line: "/bin/sh -c #(nop)  ENV A=b"
	Comment   string
	Author    string
	Layer     *Layer // nil: a metadata-only step (an empty_layer history entry)
	// Ext are Docker's own config fields (Healthcheck, OnBuild, Shell),
	// which the OCI config has no place for; nil keeps the parent's.
	Ext *dockerspec.DockerOCIImageConfigExt
	// Platform is the image's (docker import --platform); nil: the
	// parent's, else the host's.
	Platform *ocispec.Platform
}

// ConfigExt reads Docker's own config fields (HEALTHCHECK, ONBUILD,
// SHELL) from an image's config blob: they sit beside the OCI fields in
// "config", where docker inspect shows them.
func ConfigExt(img *Image) dockerspec.DockerOCIImageConfigExt {
	var d dockerspec.DockerOCIImage
	if img != nil {
		json.Unmarshal(img.ConfigRaw, &d)
	}
	return d.Config.DockerOCIImageConfigExt
}

// New writes the image made of parent (nil: from scratch) plus change:
// its config (parent's rootfs and history, extended) and its OCI
// manifest, as blobs of the store. It does not tag it.
func New(s *store.Store, parent *Image, ch Change, ex *explain.Printer) (*Image, error) {
	now := time.Now().UTC()
	cfg := ocispec.Image{
		Created:  &now,
		Author:   ch.Author,
		Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		Config:   ch.Config,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	var dirs []string
	if parent != nil {
		cfg.Platform = parent.Config.Platform
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, parent.Config.RootFS.DiffIDs...)
		cfg.History = append(cfg.History, parent.Config.History...)
		for _, l := range parent.Manifest.Layers {
			l.MediaType = store.OCILayerType(l.MediaType)
			m.Layers = append(m.Layers, l)
		}
		dirs = append(dirs, parent.LayerDirs...)
	}
	if ch.Platform != nil {
		cfg.Platform = *ch.Platform
	}
	h := ocispec.History{Created: &now, CreatedBy: ch.CreatedBy, Comment: ch.Comment, Author: ch.Author, EmptyLayer: ch.Layer == nil}
	cfg.History = append(cfg.History, h)
	if ch.Layer != nil {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, ch.Layer.DiffID)
		m.Layers = append(m.Layers, ch.Layer.Desc)
		dirs = append(dirs, ch.Layer.Dir)
	}
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	ext := ConfigExt(parent)
	if ch.Ext != nil {
		ext = *ch.Ext
	}
	craw, err := json.Marshal(dockerspec.DockerOCIImage{Image: cfg, Config: dockerspec.DockerOCIImageConfig{ImageConfig: cfg.Config, DockerOCIImageConfigExt: ext}})
	if err != nil {
		return nil, err
	}
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(craw), Size: int64(len(craw))}
	mraw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	img := &Image{Digest: digest.FromBytes(mraw), ID: m.Config.Digest, Manifest: m, ManifestRaw: mraw, Config: cfg, ConfigRaw: craw, LayerDirs: dirs}
	if err := Store(s, img, ex); err != nil {
		return nil, err
	}
	return img, nil
}

// Store writes img's config and manifest blobs into the store (again,
// for an image remembered by the build cache). Every digest of the
// image is checked first: a parent's come from the store, a cached
// step's from a file under the state root.
func Store(s *store.Store, img *Image, ex *explain.Printer) error {
	if err := store.ValidateManifest(img.Manifest); err != nil {
		return fmt.Errorf("image %s: %w", img.Digest, err)
	}
	if err := store.ValidateConfig(img.Config, len(img.Manifest.Layers)); err != nil {
		return fmt.Errorf("image %s: %w", img.Digest, err)
	}
	ex.Cmd("sha256sum config.json   # the image ID: %s", img.ID)
	if err := s.WriteBlob(img.Manifest.Config, img.ConfigRaw); err != nil {
		return fmt.Errorf("store config: %w", err)
	}
	ex.Cmd("sha256sum manifest.json   # the manifest digest: %s", img.Digest)
	d := img.Descriptor()
	d.Platform = nil
	if err := s.WriteBlob(d, img.ManifestRaw); err != nil {
		return fmt.Errorf("store manifest: %w", err)
	}
	return nil
}

// Tag names img ref in index.json (docker tag): the image becomes
// visible to `images`, `run` and `push`.
func Tag(s *store.Store, img *Image, ref string, ex *explain.Printer) (string, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.Digest != "" {
		return "", fmt.Errorf("tag %s: a name with a digest cannot be a tag: give NAME[:TAG]", ref)
	}
	ex.Cmd("jq '.manifests += [{\"digest\": \"%s\", \"annotations\": {\"org.opencontainers.image.ref.name\": \"%s\"}}]' index.json", img.Digest, r.Familiar())
	if _, err := s.Tag(r, img.Descriptor()); err != nil {
		return "", err
	}
	return r.Familiar(), nil
}
