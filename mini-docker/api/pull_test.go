package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/testenv"
)

// stallingImage serves an image whose layer stalls halfway until the
// puller goes away, while stall holds; then whole. It returns the
// reference and a channel that gets a value each time a stalled
// download has begun.
func stallingImage(t *testing.T, stall *atomic.Bool) (string, <-chan struct{}, <-chan struct{}) {
	reg := testenv.NewHostileRegistry(t)
	layer := testenv.LayerTar(testenv.File("hello", strings.Repeat("hello\n", 1000)))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}}})
	layerDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(gz.Bytes()), Size: int64(gz.Len())}
	began, ended := make(chan struct{}, 8), make(chan struct{}, 8)
	reg.BlobFunc(layerDesc.Digest.String(), func(w http.ResponseWriter, r *http.Request) {
		if !stall.Load() {
			w.Write(gz.Bytes())
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
		w.Write(gz.Bytes()[:gz.Len()/2])
		w.(http.Flusher).Flush()
		began <- struct{}{}
		<-r.Context().Done() // until the puller goes away
		ended <- struct{}{}
	})
	reg.ManifestJSON("1", ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: reg.Blob(ocispec.MediaTypeImageConfig, cfg), Layers: []ocispec.Descriptor{layerDesc}})
	return reg.Addr + "/slow/app:1", began, ended
}

// pullProcesses lists the pull tools running on root.
func pullProcesses(root string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && filepath.Base(args[0]) == "pull" && strings.Contains(string(b), root) {
			out = append(out, p)
		}
	}
	return out
}

// TestPullClientLeaves: a client that goes away in the middle of POST
// /images/create stops the pull: the pull tool ends, no image is
// tagged, no layer is unpacked, and in the store's ingest folder only
// the partial blob that lets the next pull resume is left. The next
// pull completes.
func TestPullClientLeaves(t *testing.T) {
	h := newHarness(t)
	h.pull = h.serve(false) // the registry listens in the host's namespace
	var stall atomic.Bool
	stall.Store(true)
	ref, began, ended := stallingImage(t, &stall)
	repo := strings.TrimSuffix(ref, ":1")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://localhost/v1.41/images/create?fromImage="+repo+"&tag=1", nil)
	resp, err := h.pull.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	go bufio.NewReader(resp.Body).WriteTo(&bytes.Buffer{}) // the progress, read as the CLI does
	select {
	case <-began:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the layer's download never began\nserver:\n%s", h.pull.stderr)
	}
	cancel() // the client goes away mid-pull
	select {
	case <-ended:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the layer's download went on after the client left\nserver:\n%s", h.pull.stderr)
	}
	for deadline := time.Now().Add(2 * time.Minute); len(pullProcesses(h.root)) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pull tool still runs after the client left: %v", pullProcesses(h.root))
		}
	}
	if code, body := request(t, h.pull, "GET", "/v1.41/images/json", nil); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("after the client left, images: %d %s", code, body)
	}
	if layers, _ := os.ReadDir(filepath.Join(h.root, "layers")); len(layers) != 0 {
		t.Errorf("a layer was unpacked: %v", layers)
	}
	ingest, _ := os.ReadDir(filepath.Join(h.root, "ingest"))
	for _, e := range ingest {
		if !strings.HasSuffix(e.Name(), ".partial") && !strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("left in ingest/: %s (only a partial blob to resume from may stay)", e.Name())
		}
	}

	stall.Store(false)
	for _, cli := range dockerCLIs(t)[:1] {
		out := h.mustDocker(h.pull, cli, "pull", ref)
		if !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
			t.Errorf("the next pull printed:\n%s", out)
		}
	}
	if code, body := request(t, h.pull, "GET", "/v1.41/images/json", nil); code != 200 || !strings.Contains(body, "slow/app:1") {
		t.Errorf("after the next pull, images: %d %s", code, body)
	}
}
