package main

// Attack tests: a hostile registry (testenv.HostileRegistry, a server of
// the test's own on 127.0.0.1) and crafted archives, against the built
// pull tool. Each attack must end with exit 125, one line on stderr, no
// panic, and nothing in the store.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// evilImage is an image served by a hostile registry, built honestly
// and then bent by the test before it is served.
type evilImage struct {
	h       *testenv.HostileRegistry
	layers  []ocispec.Descriptor
	diffIDs []digest.Digest
	layerGz [][]byte
	cfg     ocispec.Image
}

func newEvilImage(h *testenv.HostileRegistry, layerTars ...[]byte) *evilImage {
	e := &evilImage{h: h, cfg: ocispec.Image{Platform: testPlatform(), RootFS: ocispec.RootFS{Type: "layers"}}}
	for _, lt := range layerTars {
		gz := gzipBytes(lt)
		e.layerGz = append(e.layerGz, gz)
		e.layers = append(e.layers, h.Blob(ocispec.MediaTypeImageLayerGzip, gz))
		e.diffIDs = append(e.diffIDs, digest.FromBytes(lt))
	}
	e.cfg.RootFS.DiffIDs = e.diffIDs
	return e
}

func testPlatform() ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// manifest returns the manifest of the image (config served), for the
// test to bend before serve.
func (e *evilImage) manifest() (ocispec.Manifest, []byte) {
	cb, _ := json.Marshal(e.cfg)
	cfg := e.h.Blob(ocispec.MediaTypeImageConfig, cb)
	return ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfg, Layers: append([]ocispec.Descriptor{}, e.layers...)}, cb
}

// serve serves m under repo:tag and returns the reference.
func (e *evilImage) serve(repoTag string, m ocispec.Manifest) string {
	_, tag, _ := strings.Cut(repoTag, ":")
	e.h.ManifestJSON(tag, ocispec.MediaTypeImageManifest, m)
	return e.h.Addr + "/" + repoTag
}

// pullSplit runs the pull tool with stdout and stderr apart.
func pullSplit(t *testing.T, root string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return pullEnv(t, root, nil, args...)
}

// refused checks the outcome every attack must have: exit 125, one line
// on stderr naming the tool and holding want (and perhaps the line of
// the hint that goes with it), no panic.
func refused(t *testing.T, stdout, stderr string, code int, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) == 2 && strings.HasPrefix(lines[1], "pull: hint: ") {
		lines = lines[:1]
	}
	if code != 125 || len(lines) != 1 || !strings.HasPrefix(lines[0], "pull: error: ") || !strings.Contains(lines[0], want) {
		t.Errorf("exit %d, want 125 and one line with %q:\nstderr:\n%s\nstdout:\n%s", code, want, stderr, stdout)
	}
	if strings.Contains(stderr+stdout, "panic") || strings.Contains(stderr+stdout, "goroutine ") {
		t.Errorf("the tool panicked:\n%s%s", stdout, stderr)
	}
}

// storeEmpty checks that nothing of a refused image reached the store:
// no blob, no layer, no tag, nothing left in ingest/.
func storeEmpty(t *testing.T, root string) {
	t.Helper()
	for _, dir := range []string{"images/blobs/sha256", "layers", "ingest"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("left in the store: %s/%s", dir, e.Name())
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "images", "index.json")); err == nil {
		var idx ocispec.Index
		json.Unmarshal(b, &idx)
		if len(idx.Manifests) != 0 {
			t.Errorf("an image was tagged: %s", b)
		}
	}
}

// canary is a host folder an attack tries to reach, with a file in it.
func canary(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("host secret"), 0o600)
	return dir
}

func canaryIntact(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	b, _ := os.ReadFile(filepath.Join(dir, "secret"))
	if len(entries) != 1 || string(b) != "host secret" {
		t.Errorf("the host folder %s was touched: %d entries, secret %q", dir, len(entries), b)
	}
}

// traversal is a diff ID that, joined to <root>/layers, names dir.
func traversal(dir string) digest.Digest {
	return digest.Digest("sha256:" + strings.Repeat("../", 16) + strings.TrimPrefix(dir, "/"))
}

// TestAttackDiffIDTraversal: a config whose rootfs.diff_ids names a host
// folder ("sha256:../../…/dir") next to a real layer, the manifest
// listing the real layer blob twice (so the second "already exists"),
// is refused before any layer is fetched. Through the registry, through
// an OCI archive and through a docker-save tarball.
func TestAttackDiffIDTraversal(t *testing.T) {
	testenv.Integration(t)
	host := canary(t)
	layer := testenv.LayerTar(testenv.File("a", "a"))
	cases := map[string][]digest.Digest{
		"second layer is a host folder": {digest.FromBytes(layer), traversal(host)},
		"host root":                     {digest.FromBytes(layer), "sha256:../../../../../../../../../.."},
		"sha256 prefix then traversal":  {digest.FromBytes(layer), digest.Digest("sha256:" + strings.Repeat("a", 64) + "/../../../../../../" + host)},
	}
	for name, diffIDs := range cases {
		t.Run(name, func(t *testing.T) {
			h := testenv.NewHostileRegistry(t)
			e := newEvilImage(h, layer)
			e.cfg.RootFS.DiffIDs = diffIDs
			m, _ := e.manifest()
			m.Layers = append(m.Layers, m.Layers[0])
			ref := e.serve("evil/app:latest", m)
			root := t.TempDir()
			stdout, stderr, code := pullSplit(t, root, "--root", root, ref)
			refused(t, stdout, stderr, code, "rootfs.diff_ids[1]: ")
			refused(t, stdout, stderr, code, "invalid digest")
			storeEmpty(t, root)
			if n := h.RequestsMatching(e.layers[0].Digest.String()); n != 0 {
				t.Errorf("the layer was fetched %d times before the config was refused", n)
			}
			canaryIntact(t, host)
		})
	}

	// The same image in archives: pull load refuses it, nothing stored.
	e := newEvilImage(testenv.NewHostileRegistry(t), layer)
	e.cfg.RootFS.DiffIDs = []digest.Digest{digest.FromBytes(layer), traversal(host)}
	m, cfgRaw := e.manifest()
	m.Layers = append(m.Layers, m.Layers[0])
	for _, format := range []string{"oci", "docker"} {
		t.Run("load "+format+" archive", func(t *testing.T) {
			archive := evilArchive(t, format, m, cfgRaw, e.layerGz[0])
			root := t.TempDir()
			stdout, stderr, code := pullSplit(t, root, "load", "--root", root, "-i", archive)
			refused(t, stdout, stderr, code, "invalid digest")
			storeEmpty(t, root)
			canaryIntact(t, host)
		})
	}
}

// evilArchive writes an archive holding manifest m (config cfgRaw, every
// layer the blob layerGz): an OCI archive (index.json, blobs/) or a
// docker-save tarball (manifest.json naming files).
func evilArchive(t *testing.T, format string, m ocispec.Manifest, cfgRaw, layerGz []byte) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	if format == "oci" {
		mb, _ := json.Marshal(m)
		add("blobs/sha256/"+digest.FromBytes(mb).Encoded(), mb)
		add("blobs/sha256/"+digest.FromBytes(cfgRaw).Encoded(), cfgRaw)
		add("blobs/sha256/"+digest.FromBytes(layerGz).Encoded(), layerGz)
		add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
		idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
			Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(mb), Size: int64(len(mb)),
				Annotations: map[string]string{ocispec.AnnotationRefName: "evil:latest"}}}})
		add("index.json", idx)
	} else {
		add("config.json", cfgRaw)
		add("layer.tar.gz", layerGz)
		layers := make([]string, len(m.Layers))
		for i := range layers {
			layers[i] = "layer.tar.gz"
		}
		dm, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"evil:latest"}, "Layers": layers}})
		add("manifest.json", dm)
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "evil.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAttackNonDigest: a layer, config or index entry whose "digest" is
// not one ends the pull with 125 and one line (it made pull panic in
// progress.go), and a config digest that is not one is never put into a
// URL.
func TestAttackNonDigest(t *testing.T) {
	testenv.Integration(t)
	layer := testenv.LayerTar(testenv.File("a", "a"))
	bad := []digest.Digest{"sha256:../../x", "sha256:" + digest.Digest(strings.Repeat("A", 64)), "sha256:abc", "nonsense", "", "sha384:" + digest.Digest(strings.Repeat("a", 96))}
	for _, d := range bad {
		t.Run("layer "+string(d), func(t *testing.T) {
			h := testenv.NewHostileRegistry(t)
			e := newEvilImage(h, layer)
			m, _ := e.manifest()
			h.BlobFunc(string(d), testenv.Endless(1<<20))
			m.Layers[0].Digest = d
			root := t.TempDir()
			stdout, stderr, code := pullSplit(t, root, "--root", root, e.serve("evil/app:latest", m))
			refused(t, stdout, stderr, code, "layer 0: ")
			storeEmpty(t, root)
		})
		t.Run("config "+string(d), func(t *testing.T) {
			h := testenv.NewHostileRegistry(t)
			e := newEvilImage(h, layer)
			m, _ := e.manifest()
			m.Config.Digest = d
			root := t.TempDir()
			stdout, stderr, code := pullSplit(t, root, "--root", root, e.serve("evil/app:latest", m))
			refused(t, stdout, stderr, code, "config: ")
			if n := h.RequestsMatching("/blobs/"); n != 0 {
				t.Errorf("%d blob requests: the config digest reached a URL", n)
			}
			storeEmpty(t, root)
		})
		t.Run("index entry "+string(d), func(t *testing.T) {
			h := testenv.NewHostileRegistry(t)
			e := newEvilImage(h, layer)
			m, _ := e.manifest()
			desc := h.ManifestJSON("child", ocispec.MediaTypeImageManifest, m)
			desc.Digest, desc.Platform = d, &ocispec.Platform{OS: "linux", Architecture: testPlatform().Architecture}
			h.ManifestJSON("latest", ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
				MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{desc}})
			root := t.TempDir()
			stdout, stderr, code := pullSplit(t, root, "--root", root, h.Addr+"/evil/app:latest")
			refused(t, stdout, stderr, code, "index entry 0: ")
			if n := h.RequestsMatching("/blobs/") + h.Requests("/v2/evil/app/manifests/"+string(d)); n != 0 {
				t.Errorf("%d requests followed the bad index entry", n)
			}
			storeEmpty(t, root)
		})
	}
}

// TestAttackOversizedConfig: a config announced at 300 MB is refused
// before it is requested (it was read into memory whole); one announced
// small but served without end is read no further than announced.
func TestAttackOversizedConfig(t *testing.T) {
	testenv.Integration(t)
	layer := testenv.LayerTar(testenv.File("a", "a"))

	h := testenv.NewHostileRegistry(t)
	e := newEvilImage(h, layer)
	m, _ := e.manifest()
	m.Config.Size = 300 << 20
	cfgPath := "/v2/evil/app/blobs/" + m.Config.Digest.String()
	h.BlobFunc(m.Config.Digest.String(), testenv.Endless(1<<30))
	root := t.TempDir()
	stdout, stderr, code := pullSplit(t, root, "--root", root, e.serve("evil/app:latest", m))
	refused(t, stdout, stderr, code, "a config may have")
	if n, sent := h.Requests(cfgPath), h.Sent(cfgPath); n != 0 || sent != 0 {
		t.Errorf("the 300 MB config was requested %d times, %d bytes sent", n, sent)
	}
	storeEmpty(t, root)

	// Announced 1000 bytes, served endless: the read stops at 1001.
	h = testenv.NewHostileRegistry(t)
	e = newEvilImage(h, layer)
	m, _ = e.manifest()
	m.Config.Size = 1000
	cfgPath = "/v2/evil/app/blobs/" + m.Config.Digest.String()
	h.BlobFunc(m.Config.Digest.String(), testenv.Endless(1<<30))
	root = t.TempDir()
	stdout, stderr, code = pullSplit(t, root, "--root", root, e.serve("evil/app:latest", m))
	refused(t, stdout, stderr, code, "digest mismatch")
	// What the server wrote before the client hung up: the client read
	// 1001 bytes; the rest sat in socket buffers (a few MiB at most).
	if sent := h.Sent(cfgPath); sent > 64<<20 {
		t.Errorf("the server sent %d bytes of an endless config: the client kept reading", sent)
	}
	storeEmpty(t, root)
}

// zeroLayer is a layer holding one file of size zeros, as stacked gzip
// members (the shape of the 21 MB layer that unpacked to 21 GiB), with
// its diff ID: an honest layer, only large.
func zeroLayer(t *testing.T, size int64) (gz []byte, diffID digest.Digest) {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, size))
	tw.Close()
	raw := tarBuf.Bytes()
	var out bytes.Buffer
	const members = 4
	for i := range members {
		zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		zw.Write(raw[len(raw)*i/members : len(raw)*(i+1)/members])
		zw.Close()
	}
	return out.Bytes(), digest.FromBytes(raw)
}

// serveLayerGz serves an image whose only layer is the blob gz.
func serveLayerGz(h *testenv.HostileRegistry, gz []byte, diffID digest.Digest) string {
	e := &evilImage{h: h, cfg: ocispec.Image{Platform: testPlatform(), RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}}}
	e.layers = []ocispec.Descriptor{h.Blob(ocispec.MediaTypeImageLayerGzip, gz)}
	m, _ := e.manifest()
	return e.serve("evil/zeros:latest", m)
}

// TestAttackLayerExpansion: a 64 MiB layer of zeros (about 64 KiB
// compressed) is refused by --max-layer-size, --max-layer-ratio and
// daemon.json's "max-layer-size", with nothing left in the store; with
// no limit it pulls (so the limit, not the layer, refused it).
func TestAttackLayerExpansion(t *testing.T) {
	testenv.Integration(t)
	gz, diffID := zeroLayer(t, 64<<20)
	h := testenv.NewHostileRegistry(t)
	ref := serveLayerGz(h, gz, diffID)
	t.Logf("layer: %d bytes compressed, 64 MiB unpacked (ratio %.0f)", len(gz), float64(64<<20)/float64(len(gz)))

	daemonJSON := filepath.Join(t.TempDir(), "daemon.json")
	os.WriteFile(daemonJSON, []byte(`{"max-layer-size": "16m"}`), 0o644)
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"--max-layer-size", nil, []string{"--max-layer-size", "16m"}, "(max-layer-size 16777216): layer too large"},
		{"--max-layer-ratio", nil, []string{"--max-layer-ratio", "100"}, "max-layer-ratio 100 times its"},
		{"daemon.json", []string{"MINI_DOCKER_CONFIG=" + daemonJSON}, nil, "(max-layer-size 16777216): layer too large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			stdout, stderr, code := pullEnv(t, root, tt.env, append(append([]string{"--root", root}, tt.args...), ref)...)
			refused(t, stdout, stderr, code, tt.want)
			storeEmpty(t, root)
		})
	}
	root := t.TempDir()
	if stdout, stderr, code := pullSplit(t, root, "--root", root, ref); code != 0 {
		t.Errorf("without a limit: exit %d\n%s%s", code, stdout, stderr)
	}
}

// pullEnv runs the pull tool with stdout and stderr apart and env added
// to its environment.
func pullEnv(t *testing.T, root string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Bin(t, "pull"), args...)
	cmd.Env = append(append(os.Environ(), "MINI_DOCKER_ROOT="+root, "MINI_DOCKER_CONFIG=/nonexistent", "DOCKER_CONFIG="+root), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func freeBytes(t *testing.T, dir string) (free, total int64) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Frsize, int64(st.Blocks) * st.Frsize
}

// TestAttackLayerFillsDisk: on a 48 MiB store filesystem, a layer that
// unpacks to 64 MiB stops at the default 5% reserve (the free space
// never goes below it while it unpacks), and leaves nothing behind.
// With the reserve off (--store-reserve 0) the disk fills, and the
// error is the local write error, not a "size mismatch" that blames the
// registry.
func TestAttackLayerFillsDisk(t *testing.T) {
	testenv.Integration(t)
	gz, diffID := zeroLayer(t, 64<<20)
	h := testenv.NewHostileRegistry(t)
	ref := serveLayerGz(h, gz, diffID)

	t.Run("reserve", func(t *testing.T) {
		root := testenv.SmallDisk(t, 48<<20)
		free0, total := freeBytes(t, root)
		reserve := total * 5 / 100
		lowest := free0
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // watch the free space while the pull runs
			defer close(done)
			for {
				if f, _ := freeBytes(t, root); f < lowest {
					lowest = f
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
		stdout, stderr, code := pullSplit(t, root, "--root", root, ref)
		close(stop)
		<-done
		refused(t, stdout, stderr, code, "the store's disk reserve is reached")
		storeEmpty(t, root)
		if lowest < reserve {
			t.Errorf("free space fell to %d bytes during the pull, below the reserve of %d", lowest, reserve)
		}
		if free, _ := freeBytes(t, root); free < free0-(1<<20) {
			t.Errorf("%d bytes free after the refused pull, %d before: something was left", free, free0)
		}
	})
	t.Run("disk full", func(t *testing.T) {
		root := testenv.SmallDisk(t, 48<<20)
		stdout, stderr, code := pullSplit(t, root, "--root", root, "--store-reserve", "0", ref)
		refused(t, stdout, stderr, code, "no space left on device")
		if strings.Contains(stderr, "size mismatch") || strings.Contains(stderr, "digest mismatch") {
			t.Errorf("a full disk is blamed on the registry:\n%s", stderr)
		}
		storeEmpty(t, root)
	})
	t.Run("disk full while the blob is written", func(t *testing.T) {
		// A small tar followed by 8 MiB of random bytes (hashed into the
		// diff ID, never unpacked): only the blob does not fit.
		junk := make([]byte, 8<<20)
		rand.Read(junk)
		layer := append(testenv.LayerTar(testenv.File("a", "a")), junk...)
		e := newEvilImage(h, layer)
		m, _ := e.manifest()
		ref := e.serve("evil/random:latest", m)
		root := testenv.SmallDisk(t, 6<<20)
		stdout, stderr, code := pullSplit(t, root, "--root", root, "--store-reserve", "0", ref)
		refused(t, stdout, stderr, code, "store blob sha256:")
		refused(t, stdout, stderr, code, "no space left on device")
		if strings.Contains(stderr, "size mismatch") || strings.Contains(stderr, "digest mismatch") {
			t.Errorf("a full disk is blamed on the registry:\n%s", stderr)
		}
		storeEmpty(t, root)
	})
}

// TestAttackErrorMessageInjection: a registry's error message is printed
// in our one line without its newlines and escape sequences (a forged
// "Status: Downloaded" line, a terminal reset).
func TestAttackErrorMessageInjection(t *testing.T) {
	testenv.Integration(t)
	h := testenv.NewHostileRegistry(t)
	root := t.TempDir()
	msg := "gone\nStatus: Downloaded newer image for evil\x1b[2J\x1b]0;owned\x07" + strings.Repeat("x", 1000)
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": "MANIFEST_UNKNOWN\n", "message": msg}}})
	ref := h.Addr + "/evil/app:missing"
	h.ManifestError("missing", http.StatusNotFound, body)
	stdout, stderr, code := pullSplit(t, root, "--root", root, ref)
	refused(t, stdout, stderr, code, "MANIFEST_UNKNOWN?: gone?Status: Downloaded newer image for evil?[2J?]0;owned?")
	if strings.ContainsAny(stderr, "\x1b\x07") || len(stderr) > 1000 {
		t.Errorf("the registry's message reached the terminal as it was (%d bytes):\n%q", len(stderr), stderr)
	}
	storeEmpty(t, root)
}

// TestAttackLoadFillsDisk: `pull load` of an archive holding more than
// the store's filesystem takes stops at the reserve while it extracts the
// archive, and a layer that expands past the disk stops there while it
// unpacks; nothing is left either way.
func TestAttackLoadFillsDisk(t *testing.T) {
	testenv.Integration(t)
	// An archive with 40 MiB of files the image does not even use.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "junk", Mode: 0o644, Size: 40 << 20, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 40<<20))
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("[]"))
	tw.Close()
	big := filepath.Join(t.TempDir(), "big.tar")
	os.WriteFile(big, buf.Bytes(), 0o644)

	// An image whose one layer unpacks to 64 MiB (65 KB in the archive).
	gz, diffID := zeroLayer(t, 64<<20)
	cfg, _ := json.Marshal(ocispec.Image{Platform: testPlatform(), RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}})
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		Layers: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(gz), Size: int64(len(gz))}}}
	zeros := evilArchive(t, "oci", m, cfg, gz)

	for name, archive := range map[string]string{"archive larger than the disk": big, "layer larger than the disk": zeros} {
		t.Run(name, func(t *testing.T) {
			root := testenv.SmallDisk(t, 32<<20)
			stdout, stderr, code := pullSplit(t, root, "load", "--root", root, "-i", archive)
			refused(t, stdout, stderr, code, "the store's disk reserve is reached")
			storeEmpty(t, root)
		})
	}
}
