package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/pull/reference"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
	"mini-docker/pull/unpack"
)

// dockerManifest is one entry of a `docker save` tarball's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Save writes the images named by refs to w as one tar archive that is
// both an OCI image layout (oci-layout, index.json, blobs/) and a
// `docker save` tarball (manifest.json), like Docker 25 writes: `docker
// load`, `skopeo copy oci-archive:` and `pull load` all read it.
func Save(s *store.Store, refs []string, w io.Writer) error {
	tw := tar.NewWriter(w)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	var dm []dockerManifest
	written := map[digest.Digest]bool{}
	addFile := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	addBlob := func(d digest.Digest) error {
		if written[d] {
			return nil
		}
		written[d] = true
		f, err := s.OpenBlob(d)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + d.Encoded(), Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, Typeflag: tar.TypeDir})
	for _, ref := range refs {
		img, err := s.Lookup(ref)
		if err != nil {
			return err
		}
		for _, d := range append([]digest.Digest{img.Digest, img.ID}, layerDigests(img.Manifest)...) {
			if err := addBlob(d); err != nil {
				return fmt.Errorf("save %s: %w", ref, err)
			}
		}
		idx.Manifests = append(idx.Manifests, img.Entry)
		entry := dockerManifest{Config: "blobs/sha256/" + img.ID.Encoded()}
		if r, err := reference.Parse(img.Ref); err == nil && r.Tag != "" {
			entry.RepoTags = []string{r.Familiar()}
		}
		for _, d := range layerDigests(img.Manifest) {
			entry.Layers = append(entry.Layers, "blobs/sha256/"+d.Encoded())
		}
		dm = append(dm, entry)
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	ib, _ := json.Marshal(idx)
	mb, _ := json.Marshal(dm)
	for _, f := range []struct {
		name string
		b    []byte
	}{{ocispec.ImageLayoutFile, layout}, {ocispec.ImageIndexFile, ib}, {"manifest.json", mb}} {
		if err := addFile(f.name, f.b); err != nil {
			return err
		}
	}
	return tw.Close()
}

func layerDigests(m ocispec.Manifest) []digest.Digest {
	var ds []digest.Digest
	for _, l := range m.Layers {
		ds = append(ds, l.Digest)
	}
	return ds
}

// LoadFile is Load from the archive at path, or from stdin when path
// is "" or "-" (load -i FILE).
func LoadFile(ctx context.Context, s *store.Store, path string, lim Limits, ex *explain.Printer) ([]string, error) {
	if path == "" || path == "-" {
		return Load(ctx, s, os.Stdin, lim, ex)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(ctx, s, f, lim, ex)
}

// Load imports the images of an archive (an OCI archive, a `docker save`
// tarball, or both at once) into the store, verifying every blob, and
// unpacks their layers. It returns the names it tagged.
func Load(ctx context.Context, s *store.Store, r io.Reader, lim Limits, ex *explain.Printer) ([]string, error) {
	unlock, err := s.LockShared()
	if err != nil {
		return nil, err
	}
	defer unlock()
	s.CleanIngest()
	// The archive is unpacked to a scratch folder first: tar has no index,
	// and index.json or manifest.json may come after the blobs.
	tmp, err := os.MkdirTemp(filepath.Join(s.Root, "ingest"), fmt.Sprintf("load-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// The archive's files count against the store's reserve as layers do.
	links, err := extractPlain(r, tmp, store.Every(s.CheckReserve))
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, ocispec.ImageIndexFile)); err == nil {
		return loadOCI(ctx, s, tmp, lim, ex)
	}
	if _, err := os.Stat(filepath.Join(tmp, "manifest.json")); err == nil {
		return loadDocker(ctx, s, tmp, links, lim, ex)
	}
	return nil, errors.New("read archive: neither index.json (OCI archive) nor manifest.json (docker save) in it")
}

// extractPlain writes the regular files and folders of an archive under
// dir and returns its symlinks as a map (`docker save` before Docker 25
// links identical layers: "a/layer.tar" -> "../b/layer.tar"). Symlinks
// are never created on disk, so no later entry can be written through
// one: an archive is untrusted input too.
func extractPlain(r io.Reader, dir string, charge func(n int64) error) (map[string]string, error) {
	links := map[string]string{}
	err := unpack.Each(r, func(hdr *tar.Header, content io.Reader) error {
		name, err := archiveName(hdr.Name)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|syscall.O_NOFOLLOW, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(unpack.ChargedWriter{W: f, Charge: charge}, content)
			f.Close()
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(name), target)
			}
			if links[name], err = archiveName(target); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

// archiveName cleans a name of the archive, refusing names outside it.
func archiveName(name string) (string, error) {
	clean, err := unpack.EntryName(name)
	if err != nil {
		return "", fmt.Errorf("archive entry %q: outside the archive", name)
	}
	return clean, nil
}

// resolveLinks follows the archive's symlinks for name (at most 16).
func resolveLinks(links map[string]string, name string) (string, error) {
	name, err := archiveName(name)
	for hops := 0; err == nil; hops++ {
		target, ok := links[name]
		if !ok {
			return name, nil
		}
		if hops == 16 {
			return "", fmt.Errorf("archive entry %q: too many symlinks", name)
		}
		name = target
	}
	return "", err
}

// importBlob copies the file at p into the store as blob desc (verified).
func importBlob(s *store.Store, desc ocispec.Descriptor, p string, ex *explain.Printer) error {
	if s.HasBlob(desc.Digest) {
		return nil
	}
	if err := s.ImportFile(desc, p); err != nil {
		return err
	}
	ex.Note("digest %s verified", desc.Digest)
	return nil
}

// readSmallBlob reads a manifest or config of the archive, at most
// store.MaxSmallBlob bytes, and checks it against desc.
func readSmallBlob(desc ocispec.Descriptor, p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, store.MaxSmallBlob+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if len(b) > store.MaxSmallBlob {
		return nil, fmt.Errorf("blob %s: more than %d bytes (4 MiB)", desc.Digest, store.MaxSmallBlob)
	}
	return b, store.Check(desc, int64(len(b)), digest.FromBytes(b))
}

// unpackFile unpacks the layer blob at p into layers/<diffID>, unless
// the store has that layer already. The blob is hashed as it streams.
func unpackFile(s *store.Store, desc ocispec.Descriptor, diffID digest.Digest, p string, lim Limits, ex *explain.Printer) error {
	unlock, err := s.LockBlob(desc.Digest)
	if err != nil {
		return err
	}
	defer unlock()
	if s.HasLayer(diffID) {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	defer f.Close()
	return unpackLayer(s, desc, diffID, f, nil, lim, ex)
}

// storeImage imports an image whose manifest is known: config and layer
// blobs from files, layers unpacked, then manifest and tag.
func storeImage(ctx context.Context, s *store.Store, mdesc ocispec.Descriptor, mraw []byte, blobFile func(digest.Digest) string, names []reference.Reference, lim Limits, ex *explain.Printer) error {
	m, err := ParseManifest(mraw)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", mdesc.Digest, err)
	}
	// The config is read and checked from the archive; it is stored with
	// the manifest, after the layers, as a pull does.
	cfgRaw, err := readSmallBlob(m.Config, blobFile(m.Config.Digest))
	if err != nil {
		return err
	}
	cfg, err := ParseConfig(cfgRaw, len(m.Layers))
	if err != nil {
		return fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	// Each layer is unpacked from the archive (verified as it streams),
	// then its blob stored: a layer refused leaves no blob behind.
	for i, l := range m.Layers {
		if err := unpackFile(s, l, cfg.RootFS.DiffIDs[i], blobFile(l.Digest), lim, ex); err != nil {
			return err
		}
		if err := importBlob(s, l, blobFile(l.Digest), ex); err != nil {
			return err
		}
	}
	if mdesc.Platform == nil {
		mdesc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	}
	if err := s.WriteBlob(m.Config, cfgRaw); err != nil {
		return err
	}
	if err := s.WriteBlob(mdesc, mraw); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := s.Tag(n, mdesc); err != nil {
			return err
		}
	}
	return nil
}

func loadOCI(ctx context.Context, s *store.Store, dir string, lim Limits, ex *explain.Printer) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	idx, err := ParseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	var dm []dockerManifest
	if b, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		json.Unmarshal(b, &dm)
	}
	blobFile := func(d digest.Digest) string { return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()) }
	var loaded []string
	for i, entry := range idx.Manifests {
		raw, err := readSmallBlob(entry, blobFile(entry.Digest))
		if err != nil {
			return loaded, fmt.Errorf("manifest: %w", err)
		}
		// An index in the index (a multi-platform image): take the host's.
		if entry.MediaType == ocispec.MediaTypeImageIndex || entry.MediaType == registry.MediaTypeDockerManifestList {
			sub, err := ParseIndex(raw)
			if err != nil {
				return loaded, fmt.Errorf("index %s: %w", entry.Digest, err)
			}
			chosen, err := ChoosePlatform(sub, HostPlatform())
			if err != nil {
				return loaded, err
			}
			chosen.Annotations = entry.Annotations
			entry = chosen
			if raw, err = readSmallBlob(entry, blobFile(entry.Digest)); err != nil {
				return loaded, fmt.Errorf("manifest: %w", err)
			}
		}
		var names []reference.Reference
		name := entry.Annotations[store.AnnotationImageName]
		if name == "" && i < len(dm) && len(dm[i].RepoTags) > 0 {
			name = dm[i].RepoTags[0]
		}
		if name == "" {
			name = entry.Annotations[ocispec.AnnotationRefName]
		}
		if name != "" {
			r, err := reference.Parse(name)
			if err != nil {
				return loaded, fmt.Errorf("image name %q in the archive: %w", name, err)
			}
			names = append(names, r)
		}
		if err := storeImage(ctx, s, entry, raw, blobFile, names, lim, ex); err != nil {
			return loaded, err
		}
		if len(names) > 0 {
			loaded = append(loaded, names[0].Familiar())
		} else {
			loaded = append(loaded, entry.Digest.String())
		}
	}
	return loaded, nil
}

// dockerImage is one entry of a `docker save` manifest.json, checked:
// its file names resolved through the archive's symlinks to clean names
// inside the archive, its tags parsed.
type dockerImage struct {
	Config string
	Layers []string
	Names  []reference.Reference
}

// parseDockerManifest parses a `docker save` manifest.json. A name that
// leaves the archive ("../../etc/passwd", a symlink to "/") or a tag
// that is not a reference is refused.
func parseDockerManifest(b []byte, links map[string]string) ([]dockerImage, error) {
	var dm []dockerManifest
	if err := json.Unmarshal(b, &dm); err != nil {
		return nil, fmt.Errorf("parse manifest.json: %w", err)
	}
	out := make([]dockerImage, len(dm))
	for i, e := range dm {
		var err error
		if out[i].Config, err = resolveLinks(links, e.Config); err != nil {
			return nil, fmt.Errorf("manifest.json: config: %w", err)
		}
		for _, l := range e.Layers {
			name, err := resolveLinks(links, l)
			if err != nil {
				return nil, fmt.Errorf("manifest.json: layer: %w", err)
			}
			out[i].Layers = append(out[i].Layers, name)
		}
		for _, t := range e.RepoTags {
			r, err := reference.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("image name %q in manifest.json: %w", t, err)
			}
			out[i].Names = append(out[i].Names, r)
		}
	}
	return out, nil
}

// loadDocker imports a classic `docker save` tarball: manifest.json names
// a config file and layer tars; the manifest is made here (OCI), with
// each layer's media type from its first bytes.
func loadDocker(ctx context.Context, s *store.Store, dir string, links map[string]string, lim Limits, ex *explain.Printer) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	dm, err := parseDockerManifest(b, links)
	if err != nil {
		return nil, err
	}
	var loaded []string
	for _, e := range dm {
		files := map[digest.Digest]string{}
		describe := func(name, mediaType string) (ocispec.Descriptor, error) {
			p := filepath.Join(dir, filepath.FromSlash(name))
			f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			defer f.Close()
			magic := make([]byte, 4)
			io.ReadFull(f, magic)
			f.Seek(0, io.SeekStart)
			h := digest.SHA256.Digester()
			n, err := io.Copy(h.Hash(), f)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			if mediaType == "" {
				switch {
				case magic[0] == 0x1f && magic[1] == 0x8b:
					mediaType = ocispec.MediaTypeImageLayerGzip
				case magic[0] == 0x28 && magic[1] == 0xb5:
					mediaType = ocispec.MediaTypeImageLayerZstd
				default:
					mediaType = ocispec.MediaTypeImageLayer
				}
			}
			d := ocispec.Descriptor{MediaType: mediaType, Digest: h.Digest(), Size: n}
			files[d.Digest] = p
			return d, nil
		}
		m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
		if m.Config, err = describe(e.Config, ocispec.MediaTypeImageConfig); err != nil {
			return loaded, err
		}
		for _, l := range e.Layers {
			d, err := describe(l, "")
			if err != nil {
				return loaded, err
			}
			m.Layers = append(m.Layers, d)
		}
		raw, _ := json.Marshal(m)
		mdesc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
		names := e.Names
		if err := storeImage(ctx, s, mdesc, raw, func(d digest.Digest) string { return files[d] }, names, lim, ex); err != nil {
			return loaded, err
		}
		for _, n := range names {
			loaded = append(loaded, n.Familiar())
		}
		if len(names) == 0 {
			loaded = append(loaded, m.Config.Digest.String())
		}
	}
	return loaded, nil
}
