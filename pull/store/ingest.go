package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// ErrDigestMismatch is returned when content does not hash to the digest
// that names it: the bytes were altered (or truncated) on the way.
var ErrDigestMismatch = errors.New("digest mismatch")

// ErrSizeMismatch is returned when content is longer or shorter than its
// descriptor says.
var ErrSizeMismatch = errors.New("size mismatch")

// lock takes flock(2) on <root>/locks/NAME.lock (LOCK_SH or LOCK_EX),
// waiting for it, and returns how to release it. The kernel drops the
// lock when the process dies, so a killed pull never leaves one behind.
func (s *Store) lock(name string, how int) (func(), error) {
	return s.lockPath(filepath.Join(s.locks, name+".lock"), how)
}

func (s *Store) lockPath(p string, how int) (func(), error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", p, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// LockShared is held by a pull from start to finish, so that no removal
// deletes the blobs it has written but not yet referenced.
func (s *Store) LockShared() (func(), error) { return s.lock("store", unix.LOCK_SH) }

// LockBlob serializes the work on one blob (download, unpack) between
// processes: the second pull of a layer waits, then finds it present.
func (s *Store) LockBlob(d digest.Digest) (func(), error) {
	p, err := digestPath(s.locks, d, ".lock")
	if err != nil {
		return nil, fmt.Errorf("lock blob: %w", err)
	}
	return s.lockPath(p, unix.LOCK_EX)
}

// LockBlobContext is LockBlob for a pull: it stops waiting when ctx ends
// (Ctrl-C), however long another process holds the blob (a download
// from a registry that stalls).
func (s *Store) LockBlobContext(ctx context.Context, d digest.Digest) (func(), error) {
	p, err := digestPath(s.locks, d, ".lock")
	if err != nil {
		return nil, fmt.Errorf("lock blob: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", p, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another pull of %s: %w", d, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// writeFileAtomic writes data to path so that path holds either the old
// content or all of the new, whatever happens: write a temporary file in
// ingest/, fsync it, rename(2) it over path (atomic within a filesystem),
// and fsync the directory so the rename itself survives a crash.
func (s *Store) writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(s.ingest, filepath.Base(path)+"."+strconv.Itoa(os.Getpid())+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteBlob stores a small blob held in memory (manifest, config) after
// checking it against desc.
func (s *Store) WriteBlob(desc ocispec.Descriptor, data []byte) error {
	if err := Check(desc, int64(len(data)), digest.FromBytes(data)); err != nil {
		return err
	}
	p, err := s.BlobPath(desc.Digest)
	if err != nil {
		return err
	}
	if s.HasBlob(desc.Digest) {
		return nil
	}
	return s.writeFileAtomic(p, data)
}

// ImportFile copies the file at path into the store as blob desc, through
// a BlobWriter: verified against desc, fsynced, renamed into blobs/. It
// takes the blob's lock itself; a blob already stored is left as it is.
func (s *Store) ImportFile(desc ocispec.Descriptor, path string) error {
	if s.HasBlob(desc.Digest) {
		return nil
	}
	unlock, err := s.LockBlob(desc.Digest)
	if err != nil {
		return err
	}
	defer unlock()
	if s.HasBlob(desc.Digest) { // stored by another process while we waited for the lock
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	defer f.Close()
	w, err := s.NewBlobWriter(desc)
	if err != nil {
		return err
	}
	if err := w.Reset(); err != nil { // what an earlier attempt left is not ours to trust
		w.Abort()
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		return fmt.Errorf("store blob %s: %w", desc.Digest, err)
	}
	return w.Commit()
}

// Check compares what was received (size, digest) with the descriptor.
func Check(desc ocispec.Descriptor, size int64, got digest.Digest) error {
	if desc.Size >= 0 && size != desc.Size {
		return fmt.Errorf("blob %s: got %d bytes, want %d: %w", desc.Digest, size, desc.Size, ErrSizeMismatch)
	}
	if got != desc.Digest {
		return fmt.Errorf("blob %s: content hashes to %s: %w", desc.Digest, got, ErrDigestMismatch)
	}
	return nil
}

// BlobWriter receives a blob's bytes into ingest/<hex>.partial, hashing
// them on the way; Commit verifies and moves it into blobs/.
type BlobWriter struct {
	s     *Store
	desc  ocispec.Descriptor
	f     *os.File
	h     hash.Hash
	n     int64
	final string // blobs/sha256/<hex>

	unchecked int64 // bytes written since the last CheckReserve
	werr      error // the first write that failed on our side (disk full…)
}

// NewBlobWriter starts receiving blob desc. The caller holds LockBlob.
// A partial file left by an earlier, killed attempt is reused: its bytes
// are hashed again and Offset says where the download resumes.
func (s *Store) NewBlobWriter(desc ocispec.Descriptor) (*BlobWriter, error) {
	final, err := s.BlobPath(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("ingest blob: %w", err)
	}
	if alg, _, _ := cutDigest(desc.Digest); alg != digest.SHA256 {
		return nil, fmt.Errorf("blob %s: unsupported digest algorithm (the store keeps sha256 blobs)", desc.Digest)
	}
	p, err := digestPath(s.ingest, desc.Digest, ".partial")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ingest blob %s: %w", desc.Digest, err)
	}
	return &BlobWriter{s: s, desc: desc, f: f, h: sha256.New(), final: final, unchecked: ReserveCheckEvery}, nil
}

// DiscardPartial deletes what a download of blob d left in ingest/.
// The caller holds LockBlob.
func (s *Store) DiscardPartial(d digest.Digest) {
	if p, err := digestPath(s.ingest, d, ".partial"); err == nil {
		os.Remove(p)
	}
}

// Partial opens what an earlier attempt left of blob d (for a resumed
// download), with its size; nil when there is nothing.
func (w *BlobWriter) Partial() (io.Reader, int64, error) {
	st, err := w.f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, 0, err
	}
	if w.desc.Size >= 0 && st.Size() >= w.desc.Size {
		// Complete (or too long) but never committed: start over.
		return nil, 0, w.Reset()
	}
	return io.NewSectionReader(w.f, 0, st.Size()), st.Size(), nil
}

// Reset throws away what was received so far.
func (w *BlobWriter) Reset() error {
	w.h.Reset()
	w.n = 0
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	_, err := w.f.Seek(0, io.SeekStart)
	return err
}

// Skip accounts for n bytes already in the partial file (fed to the
// hash by the caller through Hash).
func (w *BlobWriter) Skip(n int64) error {
	w.n += n
	_, err := w.f.Seek(n, io.SeekStart)
	return err
}

// Hash is the running sha256 of the blob, to feed bytes already on disk.
func (w *BlobWriter) Hash() io.Writer { return w.h }

// Write appends p to the blob, keeping the store's disk reserve.
func (w *BlobWriter) Write(p []byte) (int, error) {
	if w.unchecked += int64(len(p)); w.unchecked >= ReserveCheckEvery {
		w.unchecked = 0
		if err := w.s.CheckReserve(ReserveCheckEvery); err != nil {
			w.werr = fmt.Errorf("store blob %s: %w", w.desc.Digest, err)
			return 0, w.werr
		}
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.werr = fmt.Errorf("store blob %s: %w", w.desc.Digest, err)
		return n, w.werr
	}
	if w.desc.Size >= 0 && w.n > w.desc.Size {
		err = fmt.Errorf("blob %s: more than the %d bytes announced: %w", w.desc.Digest, w.desc.Size, ErrSizeMismatch)
	}
	return n, err
}

// WriteErr is the error of a write that failed on our side (a full
// disk, the reserve), nil when every write succeeded. A blob cut short
// by it fails Verify with a size mismatch that is not the registry's.
func (w *BlobWriter) WriteErr() error { return w.werr }

// Written is the number of bytes received so far.
func (w *BlobWriter) Written() int64 { return w.n }

// Verify checks size and digest of what was received.
func (w *BlobWriter) Verify() error {
	return Check(w.desc, w.n, digest.NewDigest(digest.SHA256, w.h))
}

// Commit verifies the blob, fsyncs it and renames it into blobs/.
func (w *BlobWriter) Commit() error {
	if err := w.Verify(); err != nil {
		w.Abort()
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("fsync blob %s: %w", w.desc.Digest, err)
	}
	w.f.Close()
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("store blob %s: %w", w.desc.Digest, err)
	}
	return syncDir(filepath.Dir(w.final))
}

// Abort deletes the partial blob (a blob that failed verification is
// never kept, not even to resume from).
func (w *BlobWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Close keeps the partial file for a later resume (after a transient
// failure) and releases it.
func (w *BlobWriter) Close() { w.f.Close() }

// NewLayerDir makes an empty ingest folder to unpack the layer of blob d
// into, removing whatever a killed attempt left there.
func (s *Store) NewLayerDir(d digest.Digest) (string, error) {
	p, err := digestPath(s.ingest, d, ".layer")
	if err != nil {
		return "", fmt.Errorf("make layer folder: %w", err)
	}
	if err := os.RemoveAll(p); err != nil {
		return "", fmt.Errorf("clean %s: %w", p, err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return "", fmt.Errorf("make layer folder: %w", err)
	}
	return p, nil
}

// CommitLayer moves an unpacked, verified layer into layers/<diffID>.
// syncfs(2) first: the rename must not reach the disk before the files.
func (s *Store) CommitLayer(tmp string, diffID digest.Digest) error {
	final, err := s.LayerDir(diffID)
	if err != nil {
		return fmt.Errorf("commit layer: %w", err)
	}
	fd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("commit layer %s: %w", diffID, err)
	}
	err = unix.Syncfs(fd)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("syncfs for layer %s: %w", diffID, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if s.HasLayer(diffID) { // the same diff, unpacked from another blob
			return os.RemoveAll(tmp)
		}
		return fmt.Errorf("commit layer %s: %w", diffID, err)
	}
	return syncDir(s.layers)
}

// Problem is one finding of Verify.
type Problem struct {
	Path string
	Err  error
}

func (p Problem) String() string { return p.Path + ": " + p.Err.Error() }

// Verify re-hashes every blob, checks that every image's manifest,
// config and layers are present, and that every layer is unpacked. An
// empty result means the store is consistent.
func (s *Store) Verify(progress func(d digest.Digest)) ([]Problem, error) {
	var problems []Problem
	blobDir := filepath.Join(s.dir, "blobs", "sha256")
	entries, err := os.ReadDir(blobDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		p := filepath.Join(blobDir, e.Name())
		want := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if err := want.Validate(); err != nil {
			problems = append(problems, Problem{p, fmt.Errorf("not a sha256 digest name")})
			continue
		}
		if progress != nil {
			progress(want)
		}
		f, err := os.Open(p)
		if err != nil {
			problems = append(problems, Problem{p, err})
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			problems = append(problems, Problem{p, err})
		} else if got := digest.NewDigest(digest.SHA256, h); got != want {
			problems = append(problems, Problem{p, fmt.Errorf("content hashes to %s: %w", got, ErrDigestMismatch)})
		}
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	for _, m := range idx.Manifests {
		name := m.Annotations[AnnotationImageName]
		img, err := s.image(m)
		if err != nil {
			problems = append(problems, Problem{name, err})
			continue
		}
		for _, l := range img.Manifest.Layers {
			if !s.HasBlob(l.Digest) {
				problems = append(problems, Problem{name, fmt.Errorf("layer blob %s missing", l.Digest)})
			}
		}
		for i, d := range img.Config.RootFS.DiffIDs {
			if !s.HasLayer(d) {
				problems = append(problems, Problem{name, fmt.Errorf("layer %s not unpacked in %s", d, img.LayerDirs[i])})
			}
		}
	}
	return problems, nil
}

// CleanIngest removes leftovers of killed pulls and loads: unpacked-layer
// folders whose blob lock nobody holds (a live pull keeps its lock),
// load-* folders and temporary files of processes that are gone. Partial
// blobs stay: the next pull of the blob resumes from them.
func (s *Store) CleanIngest() error {
	entries, err := os.ReadDir(s.ingest)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(s.ingest, e.Name())
		if pid, ok := ownerPID(e.Name()); ok {
			if unix.Kill(pid, 0) == unix.ESRCH {
				// A build's FROM image was mounted at merged: detached
				// first, so the removal stays in the scratch folder.
				unix.Unmount(filepath.Join(p, "merged"), unix.MNT_DETACH)
				os.RemoveAll(p)
			}
			continue
		}
		hex, _, _ := strings.Cut(e.Name(), ".")
		if len(hex) != 64 || !strings.HasSuffix(e.Name(), ".layer") {
			continue
		}
		f, err := os.OpenFile(filepath.Join(s.locks, hex+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(p)
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
		}
		f.Close()
	}
	return nil
}

// ownerPID reads the process ID in the names of temporary files
// ("index.json.PID.RANDOM") and load folders ("load-PID-RANDOM").
func ownerPID(name string) (int, bool) {
	var field string
	if rest, ok := strings.CutPrefix(name, "load-"); ok {
		field, _, _ = strings.Cut(rest, "-")
	} else if parts := strings.Split(name, "."); len(parts) >= 3 && !strings.HasSuffix(name, ".partial") && !strings.HasSuffix(name, ".layer") {
		// NAME.PID.RANDOM: a blob's or index.json's write (HEX.PID.*,
		// index.json.PID.*), commit.gz.PID.*, a build's build-STEP.PID.*.
		field = parts[len(parts)-2]
	}
	pid, err := strconv.Atoi(field)
	return pid, err == nil && pid > 0
}
