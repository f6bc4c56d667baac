package newlayer

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
	"mini-docker/pull/unpack"
)

// countWriter counts and hashes what passes through it.
type countWriter struct {
	h hash.Hash
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

// Commit turns the folder upper into a layer of the store in one
// pass: tar → (sha256 = diffID) → gzip → (sha256 = digest) → blob file,
// while the same tar is unpacked into <root>/layers/<diffID>. The caller
// holds the store's shared lock (s.LockShared) until the layer is
// referenced by a tagged image.
func Commit(s *store.Store, upper string, ex *explain.Printer) (*imageops.Layer, error) {
	ex.Cmd("tar --xattrs --numeric-owner -C %s -cf layer.tar .   # whiteouts written as .wh. entries", explain.Quote(upper))
	ex.Cmd("sha256sum layer.tar   # the diffID")
	ex.Cmd("gzip -n layer.tar && sha256sum layer.tar.gz   # the layer's digest")
	l, err := storeLayer(s, upper, func(w io.Writer) error { return imageops.WriteCommitTar(w, upper) })
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", upper, err)
	}
	ex.Note("layer %s: diffID %s, %d bytes compressed", l.Desc.Digest, l.DiffID, l.Desc.Size)
	return l, nil
}

// storeLayer is a layer's one pass: the tar that write writes is hashed
// (the diffID), gzipped and hashed again (the digest) into a blob of the
// store, and unpacked by pull's safe unpacker into <root>/layers/<diffID>.
// name says where the tar comes from (the ingest folder's names).
func storeLayer(s *store.Store, name string, write func(io.Writer) error) (*imageops.Layer, error) {
	ingest := filepath.Join(s.Root, "ingest")
	tmp, err := os.CreateTemp(ingest, "commit.gz."+strconv.Itoa(os.Getpid())+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	// The unpacked copy goes into an ingest folder named by a random
	// digest whose lock we hold: CleanIngest leaves locked folders alone.
	work := digest.FromString(fmt.Sprintf("%s %d %d", name, os.Getpid(), time.Now().UnixNano()))
	unlock, err := s.LockBlob(work)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir, err := s.NewLayerDir(work)
	if err != nil {
		return nil, err
	}
	keepDir := false
	defer func() {
		if !keepDir {
			os.RemoveAll(dir)
		}
	}()

	blob := &countWriter{h: sha256.New()}
	diff := &countWriter{h: sha256.New()}
	zw, _ := gzip.NewWriterLevel(io.MultiWriter(tmp, blob), gzip.DefaultCompression)
	pr, pw := io.Pipe()
	unpacked := make(chan error, 1)
	go func() {
		err := unpack.UnpackCharged(pr, dir, store.Every(s.CheckReserve)) // bounded as a pull is
		io.Copy(io.Discard, pr)
		pr.CloseWithError(err)
		unpacked <- err
	}()
	err = write(io.MultiWriter(diff, zw, pw))
	pw.CloseWithError(err)
	if uerr := <-unpacked; err == nil && uerr != nil {
		err = fmt.Errorf("unpack the new layer: %w", uerr)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, err
	}
	l := &imageops.Layer{
		Desc:   ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.NewDigest(digest.SHA256, blob.h), Size: blob.n},
		DiffID: digest.NewDigest(digest.SHA256, diff.h),
	}
	if err := s.ImportFile(l.Desc, tmp.Name()); err != nil {
		return nil, err
	}
	if !s.HasLayer(l.DiffID) {
		if err := s.CommitLayer(dir, l.DiffID); err != nil {
			return nil, err
		}
		keepDir = true
	}
	if l.Dir, err = s.LayerDir(l.DiffID); err != nil {
		return nil, err
	}
	return l, nil
}
