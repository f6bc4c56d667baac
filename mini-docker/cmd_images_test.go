package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/testenv"
)

// TestKilledPullClientEndsItsPull: SIGKILL to `mini-docker pull`, while
// its pull child downloads a layer a hostile registry trickles without
// end, ends the child too (the kernel sends it SIGTERM: prctl(2)
// PR_SET_PDEATHSIG). The child removes its half-unpacked layer on the
// way out and tags nothing; only the partial blob in ingest/ stays, for
// the next pull to resume from.
func TestKilledPullClientEndsItsPull(t *testing.T) {
	testenv.Integration(t)
	testenv.Bin(t, "pull")
	bin := testenv.Bin(t, "mini-docker")
	h := testenv.NewHostileRegistry(t)

	data := make([]byte, 4<<20)
	rand.Read(data)
	var tarBuf bytes.Buffer
	tarBuf.Write(testenv.LayerTar(testenv.File("random", string(data))))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBuf.Bytes())
	zw.Close()
	layer := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(gz.Bytes()), Size: int64(gz.Len())}
	h.BlobFunc(layer.Digest.String(), func(w http.ResponseWriter, r *http.Request) {
		// The first MiB at once, then a byte every 100 ms until the client is gone.
		w.Write(gz.Bytes()[:1<<20])
		for i := 1 << 20; i < gz.Len(); i++ {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			w.Write(gz.Bytes()[i : i+1])
		}
	})
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarBuf.Bytes())}}})
	h.ManifestJSON("latest", ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: h.Blob(ocispec.MediaTypeImageConfig, cfg), Layers: []ocispec.Descriptor{layer}})

	root := t.TempDir()
	// Output to a file, not a pipe: Wait would wait for a pipe's other
	// writer, the child, and hang where the test must fail.
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	client := exec.Command(bin, "--root", root, "pull", h.Addr+"/slow/app:latest")
	client.Stdout, client.Stderr = out, out
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the child to be downloading: its partial blob grows.
	child := 0
	partial := filepath.Join(root, "ingest", layer.Digest.Encoded()+".partial")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if child == 0 {
			child = childOf(client.Process.Pid, "pull")
		}
		if st, err := os.Stat(partial); err == nil && st.Size() >= 1<<20 && child != 0 {
			break
		}
		if time.Now().After(deadline) {
			client.Process.Kill()
			client.Wait()
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("the pull never started downloading (child %d):\n%s", child, b)
		}
	}
	client.Process.Kill() // SIGKILL: the client runs no code of its own
	client.Wait()
	for deadline := time.Now().Add(30 * time.Second); alive(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the pull child %d still runs 30 s after its client was killed", child)
		}
	}

	if layers, _ := filepath.Glob(filepath.Join(root, "ingest", "*.layer")); len(layers) != 0 {
		t.Errorf("half-unpacked layer left: %v", layers)
	}
	for _, dir := range []string{"layers", "images/blobs/sha256"} {
		if entries, _ := os.ReadDir(filepath.Join(root, dir)); len(entries) != 0 {
			t.Errorf("%s holds %d entries after a killed pull", dir, len(entries))
		}
	}
	idx, _ := os.ReadFile(filepath.Join(root, "images", "index.json"))
	if strings.Contains(string(idx), "slow/app") {
		t.Errorf("the killed pull tagged its image: %s", idx)
	}
}

// childOf returns the child process of pid that runs the program named
// comm (0: none yet), from /proc/PID/task/*/children. By name: Go's os
// package clones a short-lived child of its own at the first process
// start (its pidfd probe), and taking that one for the pull's child made
// the test look at the store while the pull still ran.
func childOf(pid int, comm string) int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			name, _ := os.ReadFile("/proc/" + field + "/comm")
			if strings.TrimSpace(string(name)) == comm {
				n, _ := strconv.Atoi(field)
				return n
			}
		}
	}
	return 0
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
