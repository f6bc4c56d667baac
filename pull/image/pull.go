// Package image pulls an image from a registry into the store, the way
// `docker pull` does, one visible step after another:
//
//  1. parse the reference           ubuntu → docker.io/library/ubuntu:latest
//  2. GET the manifest by tag       an index (one manifest per platform) or a manifest
//  3. choose the platform           --platform, default the host's
//  4. GET the config                Env, Cmd… and the diff IDs of the layers
//  5. GET each layer, 3 at a time   download → verify → decompress → unpack, in one pass
//  6. store config and manifest, then tag the image in index.json
//
// Nothing is tagged until every blob is verified, so a failed pull leaves
// no image behind.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package image

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/pull/reference"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
	"mini-docker/pull/unpack"
)

// Options configure a pull.
type Options struct {
	Platform      string // "os/arch[/variant]"; empty: the host's
	MaxConcurrent int    // layers downloaded at once (default 3)
	Registry      registry.Options
	Limits        Limits // what one layer may expand to (the disk reserve is the store's)

	Out      io.Writer // progress and status (stdout); nil: silent
	Err      io.Writer // "Unable to find image…" (stderr)
	TTY      bool      // Out is a terminal: live progress bars
	Quiet    bool      // print only the image name at the end
	Implicit bool      // pulled because a run needed it: say so first
	Explain  *explain.Printer
}

// Result is what a pull did.
type Result struct {
	Image      *store.Image
	Digest     digest.Digest // what the tag resolved to (the index's digest for a multi-platform image)
	Downloaded bool          // false: the store already had this image under this name
}

// Pull fetches ref into s.
func Pull(ctx context.Context, s *store.Store, ref string, opts Options) (*Result, error) {
	// 1. The reference, normalized as Docker does.
	r, want, err := parseRequest(ref, &opts)
	if err != nil {
		return nil, err
	}
	out := newOutput(opts)
	if opts.Implicit && opts.Err != nil {
		fmt.Fprintf(opts.Err, "Unable to find image '%s' locally\n", r.Familiar())
	}

	unlock, err := s.LockShared()
	if err != nil {
		return nil, err
	}
	defer unlock()
	s.CleanIngest()

	repo, err := registry.New(opts.Registry).Repository(r)
	if err != nil {
		return nil, err
	}
	if reference.DefaultTagged(ref) {
		out.line("Using default tag: %s", reference.DefaultTag)
	}
	out.line("%s: Pulling from %s", r.TagOrDigest(), r.Path)

	// 2, 3. The manifest the tag points to (through an index, ours).
	raw, desc, tagDigest, err := resolveManifest(ctx, repo, r, want, opts.Explain)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(raw, desc)
	if err != nil {
		return nil, err
	}

	// 4. The config: the image's settings, and the diff ID (digest of the
	// uncompressed tar) of every layer, to check what we unpack.
	cfgRaw, err := fetchConfig(ctx, s, repo, m.Config)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(cfgRaw, len(m.Layers))
	if err != nil {
		return nil, fmt.Errorf("image %s: config %s: %w", r.Familiar(), m.Config.Digest, err)
	}
	if desc.Platform == nil {
		// A single-platform image: its config says what it runs on.
		have := ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		desc.Platform = &have
		if err := checkPlatform(have, want, r, opts); err != nil {
			return nil, err
		}
	}

	// 5. The layers, MaxConcurrent at a time.
	if err := pullLayers(ctx, s, repo, m.Layers, cfg.RootFS.DiffIDs, opts, out); err != nil {
		return nil, err
	}

	// 6. Config, manifest, then the tag: from here on the image exists.
	changed, err := storePulled(s, r, m, cfgRaw, raw, desc, opts.Explain)
	if err != nil {
		return nil, err
	}
	out.pulled(r, tagDigest, changed, opts)
	img, err := s.Lookup(r.String())
	if err != nil {
		return nil, err
	}
	return &Result{Image: img, Digest: tagDigest, Downloaded: changed}, nil
}

// parseRequest reads the reference and the platform a pull asks for,
// and fills in opts' defaults.
func parseRequest(ref string, opts *Options) (reference.Reference, ocispec.Platform, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return r, ocispec.Platform{}, err
	}
	want, err := ParsePlatform(opts.Platform)
	if err != nil {
		return r, want, err
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 3
	}
	opts.Registry.Explain = opts.Explain
	return r, want, nil
}

// resolveManifest fetches the manifest the reference's tag (or digest)
// points to. An index lists one manifest per platform: it chooses ours
// and fetches that by digest (the fetch verifies the digest). tagDigest
// is what the tag resolved to: the index's digest for a multi-platform
// image.
func resolveManifest(ctx context.Context, repo *registry.Repository, r reference.Reference, want ocispec.Platform, ex *explain.Printer) (raw []byte, desc ocispec.Descriptor, tagDigest digest.Digest, err error) {
	raw, desc, err = repo.Manifest(ctx, r.TagOrDigest())
	if err != nil {
		var re *registry.Error
		if errors.As(err, &re) && re.NotFound() {
			return nil, desc, "", fmt.Errorf("manifest for %s not found: %w", r.Familiar(), err)
		}
		return nil, desc, "", fmt.Errorf("pull %s: %w", r.Familiar(), err)
	}
	tagDigest = desc.Digest
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, registry.MediaTypeDockerManifestList:
		idx, err := ParseIndex(raw)
		if err != nil {
			return nil, desc, "", fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		chosen, err := ChoosePlatform(idx, want)
		if err != nil {
			return nil, desc, "", err
		}
		ex.Note("index %s: %s is manifest %s", store.ShortID(desc.Digest), PlatformString(want), chosen.Digest)
		if raw, desc, err = repo.Manifest(ctx, chosen.Digest.String()); err != nil {
			return nil, desc, "", fmt.Errorf("pull %s: %w", r.Familiar(), err)
		}
		if desc.Digest != chosen.Digest || desc.Size != chosen.Size {
			return nil, desc, "", fmt.Errorf("manifest %s: got %d bytes hashing to %s: digest mismatch", chosen.Digest, desc.Size, desc.Digest)
		}
		desc.Platform = chosen.Platform
	case ocispec.MediaTypeImageManifest, registry.MediaTypeDockerManifest:
	case registry.MediaTypeDockerSchema1:
		return nil, desc, "", fmt.Errorf("pull %s: Docker image format v1 (schema 1) is not supported: push the image again with a current tool", r.Familiar())
	default:
		return nil, desc, "", fmt.Errorf("pull %s: unsupported manifest media type %q", r.Familiar(), desc.MediaType)
	}
	return raw, desc, tagDigest, nil
}

// parseManifest parses the manifest resolveManifest fetched. Every
// digest is checked the moment it is parsed: the config's goes into a
// URL, the layers' name files in the store.
func parseManifest(raw []byte, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	m, err := ParseManifest(raw)
	if err != nil {
		return m, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if m.MediaType == "" {
		m.MediaType = desc.MediaType
	}
	return m, nil
}

// pulled prints how the pull ended, as docker pull does: the digest,
// whether the tag moved, and the image's full name.
func (o *output) pulled(r reference.Reference, tagDigest digest.Digest, changed bool, opts Options) {
	o.line("Digest: %s", tagDigest)
	if changed {
		o.line("Status: Downloaded newer image for %s", r.Familiar())
	} else {
		o.line("Status: Image is up to date for %s", r.Familiar())
	}
	if opts.Out != nil && (!opts.Implicit || opts.Quiet) {
		fmt.Fprintln(opts.Out, r.String())
	}
}

// checkPlatform compares a single-platform image's platform (from its
// config) with the one wanted: a mismatch is an error when --platform
// asked for one, else Docker's warning.
func checkPlatform(have, want ocispec.Platform, r reference.Reference, opts Options) error {
	if matches(&have, want) {
		return nil
	}
	if opts.Platform != "" {
		return fmt.Errorf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s",
			r.Familiar(), PlatformString(want), PlatformString(normalize(have)))
	}
	if opts.Err != nil && !opts.Quiet {
		fmt.Fprintf(opts.Err, "WARNING: The requested image's platform (%s) does not match the detected host platform (%s) and no specific platform was requested\n",
			PlatformString(normalize(have)), PlatformString(want))
	}
	return nil
}

// storePulled writes the config, then the manifest, then the tag: from
// the tag on, the image exists. It reports whether the tag moved.
func storePulled(s *store.Store, r reference.Reference, m ocispec.Manifest, cfgRaw, raw []byte, desc ocispec.Descriptor, ex *explain.Printer) (changed bool, err error) {
	if err := s.WriteBlob(m.Config, cfgRaw); err != nil {
		return false, err
	}
	if desc.MediaType == registry.MediaTypeDockerManifest {
		// OCI tools (skopeo's oci: transport, umoci) read only OCI manifests
		// from a layout: store the Docker manifest converted, as `skopeo
		// copy … oci:` does. The blobs are the same bytes.
		platform := desc.Platform
		if raw, desc, err = ToOCI(m); err != nil {
			return false, err
		}
		desc.Platform = platform
		ex.Note("Docker schema 2 manifest stored as OCI manifest %s (same config and layers)", desc.Digest)
	}
	if err := s.WriteBlob(desc, raw); err != nil {
		return false, err
	}
	return s.Tag(r, desc)
}

// fetchConfig reads the config from the store when present, else from
// the registry (verified).
func fetchConfig(ctx context.Context, s *store.Store, repo *registry.Repository, desc ocispec.Descriptor) ([]byte, error) {
	if b, err := s.ReadBlob(desc.Digest); err == nil {
		return b, nil
	}
	b, err := repo.FetchBlob(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch config: %w", err)
	}
	return b, nil
}

// errSibling cancels the layers still downloading when one has failed:
// the pull is over, and their partial blobs are not kept for a resume.
var errSibling = errors.New("another layer failed")

// pullLayers fetches every layer, at most opts.MaxConcurrent at once. The
// first failure cancels the others.
func pullLayers(ctx context.Context, s *store.Store, repo *registry.Repository, layers []ocispec.Descriptor, diffIDs []digest.Digest, opts Options, out *output) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out.start(layers)
	defer out.stop()
	sem := make(chan struct{}, opts.MaxConcurrent)
	errs := make([]error, len(layers))
	var wg sync.WaitGroup
	for i := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			status, err := pullLayer(ctx, s, repo, layers[i], diffIDs[i], opts.Limits, opts.Explain, out.progress(i))
			if err != nil {
				errs[i] = err
				cancel(errSibling)
				return
			}
			out.done(i, status)
		}()
	}
	wg.Wait()
	// Report the failure that caused the others (they only saw the cancel).
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errSibling) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pullLayer brings one layer into the store: its blob in blobs/ and its
// content unpacked in layers/<diffID>. It returns Docker's status word.
func pullLayer(ctx context.Context, s *store.Store, repo *registry.Repository, desc ocispec.Descriptor, diffID digest.Digest, lim Limits, ex *explain.Printer, progress *progress) (status string, err error) {
	switch desc.MediaType {
	//lint:ignore SA1019 deprecated for producers; a registry may still serve them, and they are refused here
	case ocispec.MediaTypeImageLayerNonDistributable, ocispec.MediaTypeImageLayerNonDistributableGzip, ocispec.MediaTypeImageLayerNonDistributableZstd,
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
		return "", fmt.Errorf("layer %s: non-distributable (foreign) layers are not supported", desc.Digest)
	}
	if err := store.ValidateDescriptor("layer", desc); err != nil {
		return "", err
	}
	if err := store.ValidateDigest(diffID); err != nil {
		return "", fmt.Errorf("layer %s: diff ID: %w", desc.Digest, err)
	}
	unlock, err := s.LockBlobContext(ctx, desc.Digest)
	if err != nil {
		return "", err
	}
	defer unlock()
	if s.HasBlob(desc.Digest) && s.HasLayer(diffID) {
		return "Already exists", nil
	}
	defer func() {
		// Keep a partial blob only to resume after an interruption (a signal,
		// a network failure), not when the pull failed for another reason.
		if err != nil && errors.Is(context.Cause(ctx), errSibling) {
			s.DiscardPartial(desc.Digest)
		}
	}()

	// The blob is in the store (an image loaded from a file, or a layer
	// unpacked and then removed): unpack it from there.
	if s.HasBlob(desc.Digest) {
		err = unpackStored(s, desc, diffID, lim, ex)
	} else {
		err = downloadLayer(ctx, s, repo, desc, diffID, lim, ex, progress)
	}
	if err != nil {
		return "", err
	}
	return "Pull complete", nil
}

// unpackStored unpacks a layer whose blob the store holds.
func unpackStored(s *store.Store, desc ocispec.Descriptor, diffID digest.Digest, lim Limits, ex *explain.Printer) error {
	f, err := s.OpenBlob(desc.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	return unpackLayer(s, desc, diffID, f, nil, lim, ex)
}

// downloadLayer fetches a layer's blob into the store and unpacks it as
// it arrives. What a killed pull left is kept and hashed again: the
// download resumes where it stopped, with a Range request.
func downloadLayer(ctx context.Context, s *store.Store, repo *registry.Repository, desc ocispec.Descriptor, diffID digest.Digest, lim Limits, ex *explain.Printer, progress *progress) error {
	w, err := s.NewBlobWriter(desc)
	if err != nil {
		return err
	}
	partial, offset, err := w.Partial()
	if err != nil {
		w.Abort()
		return err
	}
	if offset > 0 {
		ex.Note("layer %s: resuming at byte %d of %d", store.ShortID(desc.Digest), offset, desc.Size)
		if err := w.Skip(offset); err != nil {
			w.Abort()
			return err
		}
		progress.add(offset)
	}
	body, err := repo.OpenBlob(ctx, desc, offset)
	if err != nil {
		w.Close()
		if offset == 0 {
			s.DiscardPartial(desc.Digest) // nothing to resume from
		}
		return err
	}
	defer body.Close()
	src := io.Reader(io.TeeReader(progress.reader(body), w))
	if partial != nil {
		src = io.MultiReader(io.TeeReader(partial, w.Hash()), src)
	}
	return unpackLayer(s, desc, diffID, src, w, lim, ex)
}

// unpackLayer is the one pass: the compressed bytes flow from src
// (download, teed into the blob file and its hash) through the
// decompressor (hashed again: the diff ID) into the tar unpacker. w is nil
// when src is a blob already in the store.
func unpackLayer(s *store.Store, desc ocispec.Descriptor, diffID digest.Digest, src io.Reader, w *store.BlobWriter, lim Limits, ex *explain.Printer) (err error) {
	tmp, err := s.NewLayerDir(desc.Digest)
	if err != nil {
		if w != nil {
			w.Close()
		}
		return err
	}
	// The blob writer hashes what it receives; a blob read from the store
	// is hashed here.
	blobHash := digest.SHA256.Digester()
	if w == nil {
		src = io.TeeReader(src, blobHash.Hash())
	}
	counted := &countingReader{r: src}

	b := newBudget(s, desc, lim)
	uerr := decompressAndUnpack(counted, tmp, diffID, desc, b)
	if w != nil && w.WriteErr() != nil && !store.IsLocalWriteError(uerr) {
		uerr = fmt.Errorf("layer %s: %w", desc.Digest, w.WriteErr())
	}
	if store.IsLocalWriteError(uerr) || errors.Is(uerr, ErrLayerTooLarge) {
		// Our side stopped the layer (a full disk, the reserve, a limit):
		// the blob was cut short, and a size mismatch now would blame the
		// registry. Nothing of the layer is kept, not even to resume.
		os.RemoveAll(tmp)
		if w != nil {
			w.Abort()
		}
		return uerr
	}
	// Read to the end whatever the unpacker left (tar padding, trailing
	// bytes): the digest covers every byte.
	if _, derr := io.Copy(io.Discard, counted); uerr == nil {
		uerr = derr
	}

	// A blob that does not hash to its digest is the first thing to
	// report: a corrupt stream also breaks decompression, but the cause is
	// the blob.
	var verr error
	if w != nil {
		verr = w.Verify()
	} else {
		verr = store.Check(desc, counted.n, blobHash.Digest())
	}
	if verr == nil {
		ex.Note("digest %s verified (%d bytes)", desc.Digest, counted.n)
	}
	switch {
	case verr != nil:
		err = fmt.Errorf("layer %s: %w", desc.Digest, verr)
	case uerr != nil:
		err = uerr
	}
	if err != nil {
		os.RemoveAll(tmp)
		if w != nil {
			if verr != nil || !isNetwork(uerr) {
				w.Abort()
			} else {
				w.Close() // keep the partial blob: the next attempt resumes
			}
		}
		return err
	}
	if w != nil {
		if err := w.Commit(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("layer %s: %w", desc.Digest, err)
		}
	}
	if err := s.CommitLayer(tmp, diffID); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

func isNetwork(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "fetch blob") || errors.Is(err, context.Canceled))
}

// decompressAndUnpack detects the compression from the stream's first
// bytes (the media type is only a hint: registries get it wrong), unpacks
// the tar, and checks the diff ID of the uncompressed bytes.
func decompressAndUnpack(src io.Reader, dir string, diffID digest.Digest, desc ocispec.Descriptor, b *budget) error {
	br := bufio.NewReaderSize(src, 64<<10)
	magic, _ := br.Peek(4)
	var tarStream io.Reader = br
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("layer %s: gzip: %w", desc.Digest, err)
		}
		defer zr.Close()
		tarStream = zr
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fmt.Errorf("layer %s: zstd: %w", desc.Digest, err)
		}
		defer zr.Close()
		tarStream = zr
	}
	// Download, hashing and decompression run in one goroutine, the
	// unpacking (bound by file-creation syscalls) in another, with a
	// buffer between them: the pipeline of `curl | zcat | tar -x`.
	diffHash := digest.SHA256.Digester()
	tee := io.TeeReader(b.stream(tarStream), diffHash.Hash())
	pipe := newChunkPipe(16, 256<<10)
	go pipe.fill(tee)
	uerr := unpack.UnpackCharged(pipe, dir, b.charge)
	if uerr == nil {
		_, uerr = io.Copy(io.Discard, pipe) // the rest of the stream: tar padding
	}
	perr := pipe.close() // stops the filler and waits for it
	if uerr != nil {
		var ue *decompressError
		if errors.As(uerr, &ue) {
			return fmt.Errorf("layer %s: decompress: %w", desc.Digest, ue.err)
		}
		return fmt.Errorf("layer %s: %w", desc.Digest, uerr)
	}
	if perr != nil {
		return fmt.Errorf("layer %s: decompress: %w", desc.Digest, perr)
	}
	if got := diffHash.Digest(); got != diffID {
		return fmt.Errorf("layer %s: uncompressed content hashes to %s, the config says %s: diff ID mismatch", desc.Digest, got, diffID)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ToOCI converts a Docker schema 2 manifest to the OCI manifest with the
// same config and layers (only the media types change).
func ToOCI(m ocispec.Manifest) ([]byte, ocispec.Descriptor, error) {
	m.MediaType = ocispec.MediaTypeImageManifest
	m.Config.MediaType = ocispec.MediaTypeImageConfig
	layers := make([]ocispec.Descriptor, len(m.Layers))
	for i, l := range m.Layers {
		l.MediaType = store.OCILayerType(l.MediaType)
		layers[i] = l
	}
	m.Layers = layers
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return raw, ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}, nil
}

// chunkPipe is a pipe with a buffer of n chunks, so that the writer side
// (download and decompression) runs ahead of the reader (the unpacker).
type chunkPipe struct {
	ch   chan []byte
	free chan []byte
	done chan struct{} // closed by close: the filler stops
	end  chan error    // the filler's final error (nil at EOF)
	buf  []byte        // the chunk being read
	off  int           // how much of it was read
	err  error
}

type decompressError struct{ err error }

func (e *decompressError) Error() string { return e.err.Error() }
func (e *decompressError) Unwrap() error { return e.err }

func newChunkPipe(n, size int) *chunkPipe {
	p := &chunkPipe{ch: make(chan []byte, n), free: make(chan []byte, n+1), done: make(chan struct{}), end: make(chan error, 1)}
	for range n + 1 {
		p.free <- make([]byte, size)
	}
	return p
}

// fill reads r to its end (or until close) into chunks.
func (p *chunkPipe) fill(r io.Reader) {
	defer close(p.ch)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.done:
			p.end <- nil
			return
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		if n > 0 {
			select {
			case p.ch <- buf[:n]:
			case <-p.done:
				p.end <- nil
				return
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			p.end <- nil
			return
		}
		if err != nil {
			p.end <- err
			return
		}
	}
}

func (p *chunkPipe) Read(b []byte) (int, error) {
	if p.off == len(p.buf) {
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)] // give the chunk back to the filler
			p.buf = nil
		}
		if p.err != nil {
			return 0, p.err
		}
		chunk, ok := <-p.ch
		if !ok {
			if err := <-p.end; err != nil {
				p.err = &decompressError{err}
			} else {
				p.err = io.EOF
			}
			p.end <- nil // close reads it again
			return 0, p.err
		}
		p.buf, p.off = chunk, 0
	}
	n := copy(b, p.buf[p.off:])
	p.off += n
	return n, nil
}

// close stops the filler (if still running) and returns its error.
func (p *chunkPipe) close() error {
	close(p.done)
	for range p.ch {
	}
	err := <-p.end
	return err
}
