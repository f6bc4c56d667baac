// Package store keeps pulled images on disk as an OCI image layout, the
// format `skopeo`, `umoci` and containerd read:
//
//	<root>/images/oci-layout          {"imageLayoutVersion":"1.0.0"}
//	<root>/images/index.json          one descriptor per tagged image
//	<root>/images/blobs/sha256/<hex>  manifests, configs and layers, by content
//	<root>/layers/<diffID hex>/       each layer unpacked: an overlay lowerdir
//
// Content addressing makes sharing free: a blob's name is the sha256 of
// its bytes, so two images with the same base layer store it once, and a
// blob that exists never needs fetching again.
//
// Crash safety: nothing appears under a final name until it is complete
// and verified. Blobs and layers are built in <root>/ingest, fsynced and
// renamed into place; index.json is replaced the same way. A pull killed
// at any moment leaves the store as it was, plus leftovers in ingest/.
//
// Concurrency: flock(2) locks under <root>/locks. Each blob has its own
// lock (two pulls of the same image: the second waits, then finds the
// blob present); pulls hold the store lock shared, and removal takes it
// exclusive so that it never deletes a blob a pull is about to reference.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"mini-docker/pull/reference"
)

// ErrNotFound is returned by Lookup (and others) for an image the store
// does not hold.
var ErrNotFound = errors.New("no such image")

// AnnotationImageName holds the full normalized reference of an image in
// index.json, next to the OCI ref.name (the short name skopeo and umoci
// select by, "debian:bookworm"). containerd uses the same key.
const AnnotationImageName = "io.containerd.image.name"

// Store is an image store under a state root.
type Store struct {
	Root string // the state root, /var/lib/mini-docker
	// Reserve is the percent of the filesystem's space and inodes that
	// blob writes and layer unpacking leave free (CheckReserve); Open
	// sets DefaultReserve, 0 turns the check off.
	Reserve float64
	dir     string // <root>/images: the OCI layout
	layers  string // <root>/layers
	ingest  string // <root>/ingest: work in progress
	locks   string // <root>/locks
}

// Image is an image of the store, as mini-docker runs it.
type Image struct {
	Ref       string        // normalized, e.g. docker.io/library/debian:bookworm
	Digest    digest.Digest // manifest digest
	Config    ocispec.Image // the image's config (Env, Cmd, Entrypoint, WorkingDir, User)
	LayerDirs []string      // unpacked layer folders usable as overlay lowerdirs, base layer first

	ID        digest.Digest      // config digest: Docker's image ID
	ConfigRaw []byte             `json:"-"` // the config blob as read, for the fields beside the OCI ones (Docker's Healthcheck)
	Manifest  ocispec.Manifest   // the manifest (OCI or Docker schema 2, same shape)
	MediaType string             // the manifest's media type
	Size      int64              // compressed size: manifest + config + layers
	Entry     ocispec.Descriptor // the index.json entry
}

// Open opens (creating when needed) the store under the state root.
func Open(root string) (*Store, error) {
	s := &Store{
		Root:    root,
		Reserve: DefaultReserve,
		dir:     filepath.Join(root, "images"),
		layers:  filepath.Join(root, "layers"),
		ingest:  filepath.Join(root, "ingest"),
		locks:   filepath.Join(root, "locks"),
	}
	// oci-layout is written last, after the folders: when it is there,
	// so are they (one stat instead of five on every run).
	layout := filepath.Join(s.dir, ocispec.ImageLayoutFile)
	if _, err := os.Stat(layout); err == nil {
		return s, nil
	}
	for _, d := range []string{filepath.Join(s.dir, "blobs", "sha256"), s.layers, s.ingest, s.locks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	if _, err := os.Stat(layout); errors.Is(err, os.ErrNotExist) {
		b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err := s.writeFileAtomic(layout, b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Dir is the OCI layout folder, <root>/images.
func (s *Store) Dir() string { return s.dir }

// BlobPath is where the blob d lives: blobs/sha256/<hex>. A d that is
// not a valid digest has no path.
func (s *Store) BlobPath(d digest.Digest) (string, error) {
	alg, _, _ := cutDigest(d)
	return digestPath(filepath.Join(s.dir, "blobs", string(alg)), d, "")
}

// OpenBlob opens blob d for reading (unverified: a layer's digest is
// checked as it is read).
func (s *Store) OpenBlob(d digest.Digest) (*os.File, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// HasBlob reports whether blob d is in the store.
func (s *Store) HasBlob(d digest.Digest) bool {
	p, err := s.BlobPath(d)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// ReadBlob reads a (small) blob and checks it against its digest.
func (s *Store) ReadBlob(d digest.Digest) ([]byte, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	if got := digest.FromBytes(b); got != d {
		return nil, fmt.Errorf("blob %s: content hashes to %s: %w", d, got, ErrDigestMismatch)
	}
	return b, nil
}

// LayerDir is where the layer with uncompressed digest diffID is
// unpacked: layers/<hex>. A diffID that is not a valid digest has no
// folder (an image's config must not name one outside layers/).
func (s *Store) LayerDir(diffID digest.Digest) (string, error) {
	return digestPath(s.layers, diffID, "")
}

// HasLayer reports whether the layer diffID is unpacked.
func (s *Store) HasLayer(diffID digest.Digest) bool {
	p, err := s.LayerDir(diffID)
	if err != nil {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readIndex reads index.json (an empty index when there is none yet).
func (s *Store) readIndex() (ocispec.Index, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	b, err := os.ReadFile(filepath.Join(s.dir, ocispec.ImageIndexFile))
	if errors.Is(err, os.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return idx, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("parse %s: %w", filepath.Join(s.dir, ocispec.ImageIndexFile), err)
	}
	return idx, nil
}

// editIndex changes index.json under the index lock, held exclusively
// from the read to the write so that two tags at once cannot lose one:
// edit changes idx and reports whether it is to be written back.
func (s *Store) editIndex(edit func(idx *ocispec.Index) bool) error {
	unlock, err := s.lock("index", unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if !edit(&idx) {
		return nil
	}
	return s.writeIndex(idx)
}

func (s *Store) writeIndex(idx ocispec.Index) error {
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFileAtomic(filepath.Join(s.dir, ocispec.ImageIndexFile), append(b, '\n'))
}

// Tag records manifest desc in index.json under ref, replacing the image
// the name pointed to before. It returns whether anything changed.
func (s *Store) Tag(ref reference.Reference, desc ocispec.Descriptor) (bool, error) {
	name := ref.String()
	entry := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size,
		Platform: desc.Platform, Annotations: map[string]string{AnnotationImageName: name}}
	if ref.Tag != "" {
		entry.Annotations[ocispec.AnnotationRefName] = ref.Familiar()
	}
	changed := false
	err := s.editIndex(func(idx *ocispec.Index) bool {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			have := m.Annotations[AnnotationImageName]
			if have == name {
				if m.Digest == desc.Digest {
					return false
				}
				continue
			}
			if have == "" && m.Digest == desc.Digest {
				continue // the untagged entry gives way to the name
			}
			kept = append(kept, m)
		}
		idx.Manifests = append(kept, entry)
		changed = true
		return true
	})
	return changed, err
}

// KeepUntagged records desc in index.json without a name, so that the
// garbage collector keeps the image: Docker's <none>:<none>, what
// docker import and docker build make when not given a name. Found by
// its ID; a later Tag replaces the entry.
func (s *Store) KeepUntagged(desc ocispec.Descriptor) error {
	return s.editIndex(func(idx *ocispec.Index) bool {
		for _, m := range idx.Manifests {
			if m.Digest == desc.Digest {
				return false // named or kept already
			}
		}
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Platform: desc.Platform})
		return true
	})
}

// isIDPrefix reports whether ref reads as an image ID or a prefix of one
// (^(sha256:)?[0-9a-f]{12,64}$), checked by hand: a regexp compiled at
// start-up costs every program that links the store.
func isIDPrefix(ref string) bool {
	hex := strings.TrimPrefix(ref, "sha256:")
	if len(hex) < 12 || len(hex) > 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Lookup finds an image by reference ("debian", "debian:bookworm",
// "host:5000/a/b@sha256:…") or by image ID (the config digest, or a
// prefix of at least 12 hex digits of it), as Docker does.
func (s *Store) Lookup(ref string) (*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	if isIDPrefix(ref) {
		prefix := strings.TrimPrefix(ref, "sha256:")
		for _, m := range idx.Manifests {
			img, err := s.image(m)
			if err == nil && strings.HasPrefix(img.ID.Encoded(), prefix) {
				return img, nil
			}
		}
	}
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, err
	}
	for _, m := range idx.Manifests {
		name := m.Annotations[AnnotationImageName]
		if name == r.String() {
			return s.image(m)
		}
		// name@digest finds the image by content, whatever its tag.
		if r.Digest != "" && m.Digest == r.Digest {
			if have, err := reference.Parse(name); err == nil && have.Name() == r.Name() {
				return s.image(m)
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, r.Familiar())
}

// List returns every image of the store (index.json order).
func (s *Store) List() ([]*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, m := range idx.Manifests {
		img, err := s.image(m)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// image loads the manifest and config an index entry points to. Every
// digest is checked again here, where it becomes a path: the store may
// hold what an older version let in.
func (s *Store) image(entry ocispec.Descriptor) (*Image, error) {
	img := &Image{Ref: entry.Annotations[AnnotationImageName], Digest: entry.Digest, MediaType: entry.MediaType, Entry: entry}
	b, err := s.ReadBlob(entry.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	if err := json.Unmarshal(b, &img.Manifest); err != nil {
		return nil, fmt.Errorf("image %s: parse manifest: %w", img.Ref, err)
	}
	if err := ValidateManifest(img.Manifest); err != nil {
		return nil, fmt.Errorf("image %s: manifest %s: %w", img.Ref, entry.Digest, err)
	}
	img.ID = img.Manifest.Config.Digest
	cb, err := s.ReadBlob(img.ID)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	if err := json.Unmarshal(cb, &img.Config); err != nil {
		return nil, fmt.Errorf("image %s: parse config: %w", img.Ref, err)
	}
	img.ConfigRaw = cb
	if err := ValidateConfig(img.Config, len(img.Manifest.Layers)); err != nil {
		return nil, fmt.Errorf("image %s: config %s: %w", img.Ref, img.ID, err)
	}
	img.Size = entry.Size + img.Manifest.Config.Size
	for _, l := range img.Manifest.Layers {
		img.Size += l.Size
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		dir, err := s.LayerDir(d)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Ref, err)
		}
		img.LayerDirs = append(img.LayerDirs, dir)
	}
	return img, nil
}

// Remove untags the image named ref (rmi) and deletes every blob and
// unpacked layer no remaining image references. It returns what it
// deleted.
func (s *Store) Remove(ref string) ([]digest.Digest, error) {
	img, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock("store", unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	err = s.editIndex(func(idx *ocispec.Index) bool {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			// An untagged image (no name) is removed by its digest alone.
			if m.Annotations[AnnotationImageName] != img.Ref || img.Ref == "" && m.Digest != img.Digest {
				kept = append(kept, m)
			}
		}
		idx.Manifests = kept
		return true
	})
	if err != nil {
		return nil, err
	}
	return s.collectGarbage()
}

// Prune deletes blobs and layers no image references (left by a failed
// pull, for instance).
func (s *Store) Prune() ([]digest.Digest, error) {
	unlock, err := s.lock("store", unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.collectGarbage()
}

// collectGarbage is a mark-and-sweep: mark what index.json reaches,
// delete the rest. The caller holds the store lock exclusively.
func (s *Store) collectGarbage() ([]digest.Digest, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	blobs, layers := map[string]bool{}, map[string]bool{}
	for _, m := range idx.Manifests {
		blobs[m.Digest.Encoded()] = true
		img, err := s.image(m)
		if err != nil {
			return nil, fmt.Errorf("refusing to collect garbage: %w", err)
		}
		blobs[img.ID.Encoded()] = true
		for _, l := range img.Manifest.Layers {
			blobs[l.Digest.Encoded()] = true
		}
		for _, d := range img.Config.RootFS.DiffIDs {
			layers[d.Encoded()] = true
		}
	}
	var removed []digest.Digest
	sweep := func(dir string, keep map[string]bool) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if keep[e.Name()] {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove %s: %w", filepath.Join(dir, e.Name()), err)
			}
			if e.Type().IsRegular() {
				removed = append(removed, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
			}
		}
		return nil
	}
	if err := sweep(filepath.Join(s.dir, "blobs", "sha256"), blobs); err != nil {
		return removed, err
	}
	err = sweep(s.layers, layers)
	sort.Slice(removed, func(i, j int) bool { return removed[i] < removed[j] })
	return removed, err
}
