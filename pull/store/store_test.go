package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/reference"
)

// addImage stores a fake image whose layers are the given contents (each
// "unpacked" as an empty folder) and tags it name.
func addImage(t *testing.T, s *Store, name string, layers ...string) ocispec.Descriptor {
	t.Helper()
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	for _, l := range layers {
		d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString(l), Size: int64(len(l))}
		if err := s.WriteBlob(d, []byte(l)); err != nil {
			t.Fatal(err)
		}
		diffID := digest.FromString("diff " + l)
		if !s.HasLayer(diffID) {
			tmp, err := s.NewLayerDir(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CommitLayer(tmp, diffID); err != nil {
				t.Fatal(err)
			}
		}
		m.Layers = append(m.Layers, d)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
	}
	cb, _ := json.Marshal(cfg)
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cb), Size: int64(len(cb))}
	if err := s.WriteBlob(m.Config, cb); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.Marshal(m)
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(mb), Size: int64(len(mb))}
	if err := s.WriteBlob(desc, mb); err != nil {
		t.Fatal(err)
	}
	r, err := reference.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tag(r, desc); err != nil {
		t.Fatal(err)
	}
	return desc
}

func count(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestLookupAndLayout(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	desc := addImage(t, s, "debian:bookworm", "base", "top")
	for _, ref := range []string{"debian:bookworm", "docker.io/library/debian:bookworm", "debian@" + desc.Digest.String()} {
		img, err := s.Lookup(ref)
		if err != nil {
			t.Errorf("Lookup(%q): %v", ref, err)
			continue
		}
		if img.Ref != "docker.io/library/debian:bookworm" || img.Digest != desc.Digest || len(img.LayerDirs) != 2 {
			t.Errorf("Lookup(%q) = %s %s %v", ref, img.Ref, img.Digest, img.LayerDirs)
		}
	}
	img, _ := s.Lookup("debian:bookworm")
	if byID, err := s.Lookup(img.ID.Encoded()[:12]); err != nil || byID.Digest != desc.Digest {
		t.Errorf("Lookup by image ID prefix: %v", err)
	}
	for _, ref := range []string{"debian", "ubuntu:bookworm", "other/debian:bookworm"} {
		if _, err := s.Lookup(ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrNotFound", ref, err)
		}
	}
	// index.json is what skopeo and umoci read: the short name in ref.name.
	b, _ := os.ReadFile(filepath.Join(s.Dir(), "index.json"))
	var idx ocispec.Index
	json.Unmarshal(b, &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "debian:bookworm" {
		t.Errorf("index.json = %s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir(), "oci-layout")); string(b) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", b)
	}
	if n := count(t, filepath.Join(s.Root, "ingest")); n != 0 {
		t.Errorf("%d temporary files left in ingest/", n)
	}
}

func TestTagReplacesAndReportsChange(t *testing.T) {
	s, _ := Open(t.TempDir())
	addImage(t, s, "app:1", "a")
	r, _ := reference.Parse("app:1")
	img, _ := s.Lookup("app:1")
	if changed, err := s.Tag(r, img.Entry); err != nil || changed {
		t.Errorf("tagging the same manifest again: changed=%v err=%v", changed, err)
	}
	addImage(t, s, "app:1", "b") // the tag moves to another image
	list, _ := s.List()
	if len(list) != 1 || list[0].Manifest.Layers[0].Digest != digest.FromString("b") {
		t.Errorf("after retagging: %d images", len(list))
	}
}

// TestRemoveCountsReferences: rmi deletes exactly what no remaining image
// references.
func TestRemoveCountsReferences(t *testing.T) {
	s, _ := Open(t.TempDir())
	addImage(t, s, "one", "shared", "only-one")
	addImage(t, s, "two", "shared", "only-two")
	blobs := filepath.Join(s.Dir(), "blobs", "sha256")
	if n := count(t, blobs); n != 2*2+3 {
		t.Fatalf("%d blobs, want 7 (shared layer once)", n)
	}
	removed, err := s.Remove("one")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 { // manifest, config, only-one
		t.Errorf("removed %v, want 3 blobs", removed)
	}
	if !s.HasBlob(digest.FromString("shared")) || s.HasBlob(digest.FromString("only-one")) {
		t.Errorf("the shared layer must stay, the other go")
	}
	if s.HasLayer(digest.FromString("diff only-one")) || !s.HasLayer(digest.FromString("diff shared")) {
		t.Errorf("unpacked layers not counted like blobs")
	}
	if _, err := s.Remove("one"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v", err)
	}
	if problems, err := s.Verify(nil); err != nil || len(problems) != 0 {
		t.Errorf("Verify after Remove: %v %v", problems, err)
	}
}

func TestVerifyFindsDamage(t *testing.T) {
	s, _ := Open(t.TempDir())
	addImage(t, s, "app", "layer")
	blob, _ := s.BlobPath(digest.FromString("layer"))
	os.WriteFile(blob, []byte("LAYER"), 0o644)
	dir, _ := s.LayerDir(digest.FromString("diff layer"))
	os.Remove(dir)
	problems, err := s.Verify(nil)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, p := range problems {
		text += p.String() + "\n"
	}
	if !strings.Contains(text, "digest mismatch") || !strings.Contains(text, "not unpacked") {
		t.Errorf("Verify found:\n%s", text)
	}
}

func TestBlobWriterChecks(t *testing.T) {
	s, _ := Open(t.TempDir())
	data := []byte("some layer bytes")
	desc := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}

	w, _ := s.NewBlobWriter(desc)
	w.Write([]byte("some layer bytez"))
	if err := w.Commit(); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("Commit of altered bytes = %v", err)
	}
	w, _ = s.NewBlobWriter(desc)
	if _, err := w.Write(append(data, '!')); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("Write past the size = %v", err)
	}
	w.Abort()
	if s.HasBlob(desc.Digest) || count(t, filepath.Join(s.Root, "ingest")) != 0 {
		t.Errorf("a failed blob left something behind")
	}

	// A partial blob is resumed: its bytes count, the rest is appended.
	w, _ = s.NewBlobWriter(desc)
	w.Write(data[:5])
	w.Close()
	w, _ = s.NewBlobWriter(desc)
	partial, n, err := w.Partial()
	if err != nil || n != 5 {
		t.Fatalf("Partial = %d, %v", n, err)
	}
	buf := make([]byte, n)
	partial.Read(buf)
	w.Hash().Write(buf)
	w.Skip(n)
	w.Write(data[5:])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	blob, _ := s.BlobPath(desc.Digest)
	if b, _ := os.ReadFile(blob); string(b) != string(data) {
		t.Errorf("resumed blob = %q", b)
	}
}

// TestConcurrentTags: index.json updates from many goroutines (as from
// many processes: flock) lose nothing.
func TestConcurrentTags(t *testing.T) {
	s, _ := Open(t.TempDir())
	desc := addImage(t, s, "base", "x")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := reference.Parse("app:" + string(rune('a'+i)))
			if _, err := s.Tag(r, desc); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if list, _ := s.List(); len(list) != 21 {
		t.Errorf("%d images after 20 concurrent tags, want 21", len(list))
	}
}

func TestCleanIngest(t *testing.T) {
	s, _ := Open(t.TempDir())
	ingest := filepath.Join(s.Root, "ingest")
	hex := digest.FromString("x").Encoded()
	os.Mkdir(filepath.Join(ingest, hex+".layer"), 0o755)
	os.WriteFile(filepath.Join(ingest, hex+".partial"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(ingest, "index.json.999999999.123"), nil, 0o644) // a dead process's
	os.Mkdir(filepath.Join(ingest, "load-999999999-1"), 0o755)
	unlock, _ := s.LockBlob(digest.FromString("busy"))
	defer unlock()
	busy := digest.FromString("busy").Encoded() + ".layer"
	os.Mkdir(filepath.Join(ingest, busy), 0o755)

	s.CleanIngest()
	entries, _ := os.ReadDir(ingest)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != strings.Join([]string{hex + ".partial", busy}, " ") && strings.Join(left, " ") != busy+" "+hex+".partial" {
		t.Errorf("left in ingest/: %v, want the partial blob and the locked layer folder", left)
	}
}

// hostileDigests are values an image may put where a digest belongs;
// each would name a path outside the store if joined as it is.
var hostileDigests = []digest.Digest{
	"sha256:../../../../../../etc",
	"sha256:../../layers",
	"sha256:" + digest.Digest(strings.Repeat("A", 64)), // upper-case hex
	"sha256:" + digest.Digest(strings.Repeat("a", 63)), // one digit short
	"sha512:" + digest.Digest(strings.Repeat("a", 64)), // a sha256's length
	"sha384:" + digest.Digest(strings.Repeat("a", 96)), // registered by go-digest, not by the image spec
	"md5:" + digest.Digest(strings.Repeat("a", 32)),    // not registered
	"/etc/passwd", "sha256:", ":abc", "", "sha256:/" + digest.Digest(strings.Repeat("a", 63)),
}

// TestStorePathsRefuseInvalidDigests: no path of the store can be made
// from a value that is not a digest, whoever asks.
func TestStorePathsRefuseInvalidDigests(t *testing.T) {
	s, _ := Open(t.TempDir())
	for _, d := range hostileDigests {
		if p, err := s.BlobPath(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("BlobPath(%q) = %q, %v; want ErrInvalidDigest", d, p, err)
		}
		if p, err := s.LayerDir(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("LayerDir(%q) = %q, %v; want ErrInvalidDigest", d, p, err)
		}
		if s.HasLayer(d) || s.HasBlob(d) {
			t.Errorf("HasLayer/HasBlob(%q) = true", d)
		}
		if _, err := s.ReadBlob(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("ReadBlob(%q) = %v", d, err)
		}
		if _, err := s.NewLayerDir(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("NewLayerDir(%q) = %v", d, err)
		}
		if err := s.CommitLayer(t.TempDir(), d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("CommitLayer(%q) = %v", d, err)
		}
		if _, err := s.LockBlob(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("LockBlob(%q) = %v", d, err)
		}
		if _, err := s.NewBlobWriter(ocispec.Descriptor{Digest: d}); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("NewBlobWriter(%q) = %v", d, err)
		}
	}
	for _, d := range []digest.Digest{digest.FromString("x"), digest.SHA512.FromString("x")} {
		if _, err := s.LayerDir(d); err != nil {
			t.Errorf("LayerDir(%s) = %v", d, err)
		}
	}
}

// TestImageWithHostileDiffIDRefused: an image whose config names a
// host folder as a layer (written straight into the store, as a version
// without validation would have) is refused by every lookup: no layer
// folder outside layers/ ever reaches a container's lowerdir.
func TestImageWithHostileDiffIDRefused(t *testing.T) {
	s, _ := Open(t.TempDir())
	layer := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromString("l"), Size: 1}
	s.WriteBlob(layer, []byte("l"))
	cfg := ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:../../../../../../etc"}}}
	cb, _ := json.Marshal(cfg)
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cb), Size: int64(len(cb))},
		Layers: []ocispec.Descriptor{layer}}
	s.WriteBlob(m.Config, cb)
	mb, _ := json.Marshal(m)
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(mb), Size: int64(len(mb))}
	s.WriteBlob(desc, mb)
	r, _ := reference.Parse("evil")
	if _, err := s.Tag(r, desc); err != nil {
		t.Fatal(err)
	}
	img, err := s.Lookup("evil")
	if !errors.Is(err, ErrInvalidDigest) {
		t.Fatalf("Lookup = %+v, %v; want ErrInvalidDigest", img, err)
	}
	if _, err := s.List(); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("List = %v", err)
	}
}

// Every checks before the first byte and then once each
// ReserveCheckEvery bytes; EveryAfter only from the first
// ReserveCheckEvery on, so a small write is never refused.
func TestEveryChecksEachMiB(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every func(func(int64) error) func(int64) error
		want  []int // the checks made after each charge of 300 KiB
	}{
		{"Every", Every, []int{1, 1, 1, 1, 2, 2, 2, 2}},
		{"EveryAfter", EveryAfter, []int{0, 0, 0, 1, 1, 1, 1, 2}},
	} {
		checks := 0
		charge := tc.every(func(ahead int64) error {
			if ahead != ReserveCheckEvery {
				t.Errorf("%s: checked for %d bytes ahead, want %d", tc.name, ahead, ReserveCheckEvery)
			}
			checks++
			return nil
		})
		var got []int
		for range tc.want {
			charge(300 << 10)
			got = append(got, checks)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: checks after each 300 KiB: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLockBlobContextGivesUp: a pull that waits for a blob another pull
// holds (a registry that stalls that download) stops waiting when its
// context ends (Ctrl-C), and takes the lock once the holder lets go.
func TestLockBlobContextGivesUp(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("layer")
	unlock, err := s.LockBlob(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if u, err := s.LockBlobContext(ctx, d); err == nil {
		u()
		t.Fatal("took a lock another holder has")
	} else if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("gave up after %v with %v, want the context's end", time.Since(start), err)
	}
	unlock()
	u, err := s.LockBlobContext(context.Background(), d)
	if err != nil {
		t.Fatalf("once let go: %v", err)
	}
	u()
}

// TestCleanIngestTakesWhatKilledBuildsLeft: a build's scratch folders
// (build-STEP.PID.RANDOM) whose process is gone are removed, a mount
// left on one's merged folder detached first; a live process's stay.
func TestCleanIngestTakesWhatKilledBuildsLeft(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(gone.Process.Pid)
	ingest := filepath.Join(s.Root, "ingest")
	copyDir := filepath.Join(ingest, "build-copy."+dead+".123")
	fromDir := filepath.Join(ingest, "build-from."+dead+".456")
	liveDir := filepath.Join(ingest, "build-copy."+strconv.Itoa(os.Getpid())+".789")
	for _, d := range []string{copyDir, filepath.Join(fromDir, "merged"), liveDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(copyDir, "big"), []byte("half"), 0o644)
	blobTmp := filepath.Join(ingest, strings.Repeat("ab", 32)+"."+dead+".777") // a killed pull's blob write
	os.WriteFile(blobTmp, []byte("half"), 0o644)
	merged := filepath.Join(fromDir, "merged")
	if err := syscall.Mount("tmpfs", merged, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(merged, syscall.MNT_DETACH) })
	os.WriteFile(filepath.Join(merged, "in-the-image"), nil, 0o644)
	if err := s.CleanIngest(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{copyDir, fromDir, blobTmp} {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("%s, left by a dead build, is still there", d)
		}
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Errorf("a live build's %s was removed: %v", liveDir, err)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), merged) {
		t.Errorf("the mount on %s is still there", merged)
	}
}
