package store

import (
	_ "crypto/sha256" // the algorithms ValidateDigest accepts must be linked in
	_ "crypto/sha512"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrInvalidDigest is returned for a digest that is not one: a name the
// image spec's grammar refuses ("sha256:../../x", upper-case hex, a hash
// of the wrong length, an unregistered algorithm).
var ErrInvalidDigest = errors.New("invalid digest")

// MaxSmallBlob bounds the blobs a pull or a load holds in memory whole:
// manifests, indexes and configs. containerd allows manifests 4 MiB;
// configs are a few kilobytes in practice.
const MaxSmallBlob = 4 << 20

// ValidateDigest checks d against the image spec's digest grammar
// (descriptor.md, "Digests"): a registered algorithm, then its encoding.
//
//	sha256:<64 lower-case hex digits>
//	sha512:<128 lower-case hex digits>
//
// A digest names files in the store (blobs/sha256/<hex>, layers/<hex>),
// so a value from an image — "sha256:../../../etc" in a config's
// rootfs.diff_ids — must never get this far unchecked: it would name a
// host folder as a layer.
func ValidateDigest(d digest.Digest) error {
	alg, _, ok := cutDigest(d)
	if !ok || (alg != digest.SHA256 && alg != digest.SHA512) {
		return fmt.Errorf("%q: want sha256:<64 hex digits> or sha512:<128 hex digits>: %w", string(d), ErrInvalidDigest)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%q: %v: %w", string(d), err, ErrInvalidDigest)
	}
	return nil
}

// cutDigest splits "alg:encoded" without go-digest's Algorithm(), which
// panics on a string without a colon.
func cutDigest(d digest.Digest) (digest.Algorithm, string, bool) {
	for i := 0; i < len(d); i++ {
		if d[i] == ':' {
			return digest.Algorithm(d[:i]), string(d[i+1:]), i > 0 && i+1 < len(d)
		}
	}
	return "", "", false
}

// ValidateDescriptor checks a descriptor an image gives us: its digest,
// and a size that is not negative.
func ValidateDescriptor(what string, desc ocispec.Descriptor) error {
	if err := ValidateDigest(desc.Digest); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if desc.Size < 0 {
		return fmt.Errorf("%s %s: negative size %d", what, desc.Digest, desc.Size)
	}
	return nil
}

// ValidateIndex checks every manifest an index lists.
func ValidateIndex(idx ocispec.Index) error {
	for i, m := range idx.Manifests {
		if err := ValidateDescriptor(fmt.Sprintf("index entry %d", i), m); err != nil {
			return err
		}
	}
	return nil
}

// ValidateManifest checks the config and layer descriptors of a
// manifest, and refuses a config too large to hold in memory before
// anyone fetches it.
func ValidateManifest(m ocispec.Manifest) error {
	if err := ValidateDescriptor("config", m.Config); err != nil {
		return err
	}
	if m.Config.Size > MaxSmallBlob {
		return fmt.Errorf("config %s: %d bytes, more than the %d (4 MiB) a config may have", m.Config.Digest, m.Config.Size, MaxSmallBlob)
	}
	for i, l := range m.Layers {
		if err := ValidateDescriptor(fmt.Sprintf("layer %d", i), l); err != nil {
			return err
		}
	}
	return nil
}

// ValidateConfig checks an image config against its manifest: one valid
// diff ID per layer, in the same order.
func ValidateConfig(cfg ocispec.Image, layers int) error {
	if len(cfg.RootFS.DiffIDs) != layers {
		return fmt.Errorf("image config lists %d layers (rootfs.diff_ids), the manifest %d", len(cfg.RootFS.DiffIDs), layers)
	}
	for i, d := range cfg.RootFS.DiffIDs {
		if err := ValidateDigest(d); err != nil {
			return fmt.Errorf("rootfs.diff_ids[%d]: %w", i, err)
		}
	}
	return nil
}

// digestPath is the one place the store turns a digest into a file
// name: dir/<encoded><suffix>. Every blob, layer, partial download and
// lock path goes through it, and it refuses anything ValidateDigest
// does, whatever the caller checked before.
func digestPath(dir string, d digest.Digest, suffix string) (string, error) {
	if err := ValidateDigest(d); err != nil {
		return "", err
	}
	_, enc, _ := cutDigest(d)
	return filepath.Join(dir, enc+suffix), nil
}

// ShortID is how Docker names a layer or an image in its output: the
// first 12 hex digits of the digest ("a2abf6c4d29d"). It never panics,
// whatever d holds.
func ShortID(d digest.Digest) string {
	_, enc, _ := cutDigest(d)
	return enc[:min(12, len(enc))]
}
