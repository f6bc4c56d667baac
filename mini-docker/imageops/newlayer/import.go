// Package newlayer makes a new layer in the image store: from a
// container's upper folder (commit, a build step: Commit) or from a tar
// stream (docker import: Import), tar → gzip in one pass with both
// digests, unpacked by pull's safe unpacker beside the blob. It is apart
// from package imageops because the compressors it links run start-up
// code (package-level tables) in every program that imports them, and
// mini-docker itself, whose every command would pay for it, never writes
// a layer: mini-docker-build and mini-docker-serve do. Lesson 11
// (lessons/11-images.md) teaches it.
package newlayer

import (
	"bufio"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
)

// ImportOptions is what docker import asks (the CLI's flags, the Engine
// API's POST /images/create?fromSrc=).
type ImportOptions struct {
	Ref      string           // REPOSITORY[:TAG]; "" keeps the image untagged (<none>:<none>)
	Source   string           // "-" (a file or stdin, as the docker CLI sends it) or the URL
	Message  string           // -m; default "Imported from SOURCE", as Docker's
	Platform ocispec.Platform // the config's os, architecture and variant
	// Changes applies docker import -c to the empty config (nil: none).
	Changes func(ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error)
	Explain *explain.Printer
}

// Import makes an image of one layer from the tar stream r, a root
// filesystem as docker export writes it (plain, gzip, bzip2 or zstd,
// told by its first bytes as Docker's DecompressStream does). The layer
// goes through pull's unpacker, which refuses entries that climb out of
// the layer; its diffID is the sha256 of the uncompressed stream, as
// Docker's layer store computes it. The config is empty but for the
// changes, and its one history entry carries the message.
func Import(s *store.Store, r io.Reader, o ImportOptions) (*imageops.Image, error) {
	var cfg ocispec.ImageConfig
	var ext dockerspec.DockerOCIImageConfigExt
	if o.Changes != nil {
		var err error
		if cfg, ext, err = o.Changes(cfg, ext); err != nil {
			return nil, err
		}
	}
	msg := o.Message
	if msg == "" {
		msg = "Imported from " + o.Source
	}
	tarStream, done, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer done()
	// Held until the image is named: the collector keeps only what
	// index.json reaches.
	unlock, err := s.LockShared()
	if err != nil {
		return nil, err
	}
	defer unlock()
	o.Explain.Cmd("zcat -f %s > layer.tar   # gzip, bzip2 and zstd told by their first bytes", explain.Quote(o.Source))
	o.Explain.Cmd("sha256sum layer.tar   # the diffID; then gzip -n layer.tar for the layer's digest")
	layer, err := storeLayer(s, "import "+o.Source, func(w io.Writer) error {
		_, err := io.Copy(w, tarStream)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", o.Source, err)
	}
	o.Explain.Note("layer %s: diffID %s, %d bytes compressed", layer.Desc.Digest, layer.DiffID, layer.Desc.Size)
	ch := imageops.Change{Config: cfg, Ext: &ext, Comment: msg, Layer: layer}
	if o.Platform.OS != "" {
		ch.Platform = &o.Platform
	}
	img, err := imageops.New(s, nil, ch, o.Explain)
	if err != nil {
		return nil, err
	}
	if o.Ref == "" {
		return img, s.KeepUntagged(img.Descriptor())
	}
	_, err = imageops.Tag(s, img, o.Ref, o.Explain)
	return img, err
}

// errXz is an xz archive, which Docker decompresses with the xz program.
var errXz = errors.New("xz-compressed archives are not supported: decompress it first (xz -d)")

// decompress reads the compression from r's first bytes, as Docker's
// archive.DecompressStream does; anything else is taken as a plain tar.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) >= 3 && string(magic[:3]) == "BZh":
		return bzip2.NewReader(br), func() {}, nil
	case len(magic) >= 4 && string(magic[:4]) == "\x28\xb5\x2f\xfd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	case len(magic) == 6 && string(magic) == "\xfd7zXZ\x00":
		return nil, nil, errXz
	}
	return br, func() {}, nil
}
