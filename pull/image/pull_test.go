package image_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
	"mini-docker/pull/image"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
	"mini-docker/pull/unpack"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// noNewMounts fails t if a mount in one of its temporary folders
// outlives it (mounts made elsewhere on the host by other programs are
// not this test's to judge).
func noNewMounts(t *testing.T) {
	t.Helper()
	before := testenv.Mounts(t)
	mine := filepath.Join(os.TempDir(), strings.SplitN(t.Name(), "/", 2)[0])
	t.Cleanup(func() {
		for mp := range testenv.Mounts(t) {
			if !before[mp] && strings.HasPrefix(mp, mine) {
				t.Errorf("mount left behind: %s", mp)
			}
		}
	})
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pull(t testing.TB, s *store.Store, ref string) *image.Result {
	t.Helper()
	res, err := image.Pull(context.Background(), s, ref, image.Options{})
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return res
}

// merged returns the image's root filesystem as a container sees it: the
// layer folders mounted as overlay lowerdirs (read-only, top layer first),
// or the only layer itself.
func merged(t *testing.T, img *store.Image) string {
	t.Helper()
	if len(img.LayerDirs) == 1 {
		return img.LayerDirs[0]
	}
	dirs := slices.Clone(img.LayerDirs)
	slices.Reverse(dirs)
	mnt := t.TempDir()
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(dirs, ":")); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	return mnt
}

// node is what the tree comparison looks at for one path.
type node struct {
	Type     fs.FileMode
	Mode     uint32 // permission bits with set-uid, set-gid, sticky
	UID, GID uint32
	Content  string // sha256 of a regular file
	Link     string // symlink target
	Rdev     uint64
	Links    string // the other names of a hardlinked file
}

// tree walks root without following symlinks.
func tree(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		n := node{Type: d.Type(), Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid}
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.Content = fmt.Sprintf("%x", sha256.Sum256(b))
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		case d.Type()&fs.ModeSymlink != 0:
			n.Link, _ = os.Readlink(p)
			n.Mode = 0
		case d.Type()&(fs.ModeDevice|fs.ModeCharDevice) != 0:
			n.Rdev = st.Rdev
		}
		out[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range inodes {
		sort.Strings(names)
		for _, name := range names {
			n := out[name]
			n.Links = strings.Join(names, ",")
			out[name] = n
		}
	}
	return out
}

func compareTrees(t *testing.T, want, got map[string]node, wantName, gotName string) {
	t.Helper()
	bad := 0
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: in %s, missing from %s", p, wantName, gotName)
		case g != w:
			t.Errorf("%s differs:\n  %s: %+v\n  %s: %+v", p, wantName, w, gotName, g)
		default:
			continue
		}
		if bad++; bad > 20 {
			t.Fatal("too many differences")
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: in %s, not in %s", p, gotName, wantName)
		}
	}
}

// umociRootfs unpacks ref with the reference tools: skopeo copies it from
// the registry into an OCI layout, umoci unpacks it.
func umociRootfs(t *testing.T, ref string) string {
	t.Helper()
	testenv.RequireCommand(t, "skopeo")
	testenv.RequireCommand(t, "umoci")
	dir := t.TempDir()
	if out, code := testenv.Run(t, "skopeo", "copy", "--quiet", "--src-tls-verify=false", "--insecure-policy",
		"docker://"+ref, "oci:"+dir+"/layout:img"); code != 0 {
		t.Fatalf("skopeo copy: %s", out)
	}
	if out, code := testenv.Run(t, "umoci", "unpack", "--image", dir+"/layout:img", dir+"/bundle"); code != 0 {
		t.Fatalf("umoci unpack: %s", out)
	}
	return dir + "/bundle/rootfs"
}

// TestPullMatchesUmoci: the merged layers of a pulled image are the same
// tree umoci unpacks from the same image.
func TestPullMatchesUmoci(t *testing.T) {
	testenv.Integration(t)
	noNewMounts(t)
	reg := testenv.SharedRegistry(t)
	for name, push := range map[string]func(testing.TB, *testenv.Registry) string{
		"busybox": testenv.PushBusybox, "debian": testenv.PushDebian, "edge": testenv.PushEdgeImage,
	} {
		t.Run(name, func(t *testing.T) {
			ref := push(t, reg)
			res := pull(t, newStore(t), ref)
			compareTrees(t, tree(t, umociRootfs(t, ref)), tree(t, merged(t, res.Image)), "umoci", "pull")
		})
	}
}

// TestEdgeImageMergedView: whiteouts delete, opaque directories reset,
// and what a layer holds besides plain files survives.
func TestEdgeImageMergedView(t *testing.T) {
	testenv.Integration(t)
	noNewMounts(t)
	ref := testenv.PushEdgeImage(t, testenv.SharedRegistry(t))
	res := pull(t, newStore(t), ref)
	root := merged(t, res.Image)

	for _, gone := range []string{"etc/gone", "var/cache/a", "var/cache/b", "olddir/x", "bin/tool-link"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s should be deleted by a whiteout: %v", gone, err)
		}
	}
	for p, want := range map[string]string{"etc/keep": "v2", "etc/added": "added", "var/cache/new": "new", "olddir/y": "y", "bin/tool": "tool", "lib/libx.so": "lib"} {
		if b, err := os.ReadFile(filepath.Join(root, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	names := func(dir string) []string {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	if got := names("var/cache"); !slices.Equal(got, []string{"new"}) {
		t.Errorf("opaque var/cache holds %v, want [new]", got)
	}
	if got := names("olddir"); !slices.Equal(got, []string{"y"}) {
		t.Errorf("olddir, deleted and made again, holds %v, want [y]", got)
	}
	var a, b, st unix.Stat_t
	unix.Lstat(filepath.Join(root, "bin/tool"), &a)
	unix.Lstat(filepath.Join(root, "bin/tool2"), &b)
	if a.Ino != b.Ino {
		t.Errorf("bin/tool2 is not a hardlink of bin/tool")
	}
	if l, _ := os.Readlink(filepath.Join(root, "bin/sh")); l != "/bin/tool" {
		t.Errorf("bin/sh -> %q, want /bin/tool", l)
	}
	unix.Lstat(filepath.Join(root, "dev/loop0"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFBLK || unix.Major(st.Rdev) != 7 {
		t.Errorf("dev/loop0 is not block device 7:0 (mode %o)", st.Mode)
	}
	unix.Lstat(filepath.Join(root, "bin/su"), &st)
	if st.Mode&0o7777 != 0o4755 {
		t.Errorf("bin/su mode %o, want 4755", st.Mode&0o7777)
	}
	unix.Lstat(filepath.Join(root, "home/user/file"), &st)
	if st.Uid != 1000 || st.Gid != 1001 {
		t.Errorf("home/user/file owned by %d:%d, want 1000:1001", st.Uid, st.Gid)
	}
	unix.Lstat(filepath.Join(root, "etc/keep"), &st)
	if st.Mtim.Sec != testenv.EdgeMtime {
		t.Errorf("etc/keep mtime %d, want %d", st.Mtim.Sec, testenv.EdgeMtime)
	}
	buf := make([]byte, 64)
	if n, err := unix.Lgetxattr(filepath.Join(root, "etc/keep"), testenv.EdgeXattr, buf); err != nil || string(buf[:n]) != testenv.EdgeXattrValue {
		t.Errorf("etc/keep xattr %s = %q, %v", testenv.EdgeXattr, buf[:n], err)
	}
	// In the layer itself, the deletion is overlay's whiteout: a 0/0 char device.
	unix.Lstat(filepath.Join(res.Image.LayerDirs[1], "etc/gone"), &st)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("layer 2 etc/gone is not a 0/0 character device")
	}
	if n, err := unix.Lgetxattr(filepath.Join(res.Image.LayerDirs[1], "var/cache"), unpack.OpaqueXattr, buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("layer 2 var/cache is not marked opaque: %q %v", buf[:n], err)
	}
}

func TestPullZstdLayer(t *testing.T) {
	testenv.Integration(t)
	ref, _ := testenv.PushZstdImage(t, testenv.SharedRegistry(t))
	res := pull(t, newStore(t), ref)
	if res.Image.Manifest.Layers[0].MediaType != ocispec.MediaTypeImageLayerZstd {
		t.Errorf("layer media type %s, want zstd", res.Image.Manifest.Layers[0].MediaType)
	}
	if b, err := os.ReadFile(filepath.Join(res.Image.LayerDirs[0], "etc/zstd")); err != nil || string(b) != "compressed with zstd" {
		t.Errorf("etc/zstd = %q, %v", b, err)
	}
}

// registryBlob is where docker-registry keeps a blob on disk.
func registryBlob(reg *testenv.Registry, hex string) string {
	return filepath.Join(reg.StorageDir, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
}

// TestTamperedBlob: one byte changed in the registry's storage gives a
// digest mismatch naming the blob; the store gains no image and no blob
// of it.
func TestTamperedBlob(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.NewRegistry(t, testenv.RegistryOptions{})
	ref := testenv.PushEdgeImage(t, reg)
	good := pull(t, newStore(t), ref).Image
	victim := good.Manifest.Layers[1].Digest
	p := registryBlob(reg, victim.Encoded())
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}

	s := newStore(t)
	_, err = image.Pull(context.Background(), s, ref, image.Options{})
	if !errors.Is(err, store.ErrDigestMismatch) || !strings.Contains(err.Error(), victim.String()) {
		t.Fatalf("pull of a tampered image = %v, want a digest mismatch naming %s", err, victim)
	}
	if imgs, _ := s.List(); len(imgs) != 0 {
		t.Errorf("the store lists %d images after a failed pull", len(imgs))
	}
	if s.HasBlob(victim) {
		t.Errorf("the tampered blob was stored")
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.Root, "ingest", "*"))
	if len(leftovers) != 0 {
		t.Errorf("partial files left: %v", leftovers)
	}
	if problems, err := s.Verify(nil); err != nil || len(problems) != 0 {
		t.Errorf("store after a failed pull: %v %v", problems, err)
	}
}

// throttle is a reverse proxy in front of a registry that slows blob
// downloads to rate bytes per second (0: full speed) and records the
// Range headers it sees.
type throttle struct {
	rate   atomic.Int64
	mu     sync.Mutex
	ranges []string
}

func (th *throttle) start(t *testing.T, reg *testenv.Registry) string {
	target, _ := url.Parse("http://" + reg.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if strings.Contains(resp.Request.URL.Path, "/blobs/") {
			resp.Body = &slowBody{ReadCloser: resp.Body, th: th}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			th.mu.Lock()
			th.ranges = append(th.ranges, r.Header.Get("Range"))
			th.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

type slowBody struct {
	io.ReadCloser
	th *throttle
}

func (b *slowBody) Read(p []byte) (int, error) {
	rate := b.th.rate.Load()
	if rate > 0 && len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := b.ReadCloser.Read(p)
	if rate > 0 {
		time.Sleep(time.Duration(int64(n) * int64(time.Second) / rate))
	}
	return n, err
}

// TestKilledPullResumes: a pull killed with SIGKILL halfway through the
// debian layer leaves the store consistent; the next pull resumes the
// download with a Range request and the store verifies clean.
func TestKilledPullResumes(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "pull")
	reg := testenv.SharedRegistry(t)
	testenv.PushDebian(t, reg)
	th := &throttle{}
	th.rate.Store(8 << 20)
	addr := th.start(t, reg)
	ref := addr + "/" + testenv.DebianRepo
	root := t.TempDir()

	cmd := exec.Command(bin, "--root", root, ref)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		parts, _ := filepath.Glob(filepath.Join(root, "ingest", "*.partial"))
		if len(parts) > 0 {
			if st, err := os.Stat(parts[0]); err == nil && st.Size() > 4<<20 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the pull never got 4 MiB into the layer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL: no cleanup code runs
	cmd.Wait()

	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if imgs, _ := s.List(); len(imgs) != 0 {
		t.Fatalf("a killed pull left an image: %v", imgs[0].Ref)
	}
	th.rate.Store(0)
	if out, code := testenv.Run(t, bin, "--root", root, ref); code != 0 {
		t.Fatalf("pull again: exit %d\n%s", code, out)
	}
	th.mu.Lock()
	ranges := th.ranges
	th.mu.Unlock()
	if len(ranges) == 0 {
		t.Errorf("the second pull downloaded the layer from the start: no Range request")
	}
	out, code := testenv.Run(t, bin, "verify", "--root", root)
	if code != 0 || !strings.Contains(out, "is consistent") {
		t.Errorf("pull verify: exit %d\n%s", code, out)
	}
	if _, err := s.Lookup(ref); err != nil {
		t.Error(err)
	}
}

// TestMaliciousLayersRefused: each layer that tries to write outside its
// root is refused (or contained), and the canary next to the store is
// untouched.
func TestMaliciousLayersRefused(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.NewRegistry(t, testenv.RegistryOptions{})
	canaryDir := t.TempDir()
	canary := filepath.Join(canaryDir, "canary")
	os.WriteFile(canary, []byte("canary"), 0o644)
	refs := testenv.PushMaliciousImages(t, reg, canaryDir)
	for name, ref := range refs {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			res, err := image.Pull(context.Background(), s, ref, image.Options{})
			if name == "overwrite-canary" {
				// Contained: the file replaces the symlink inside the layer.
				if err != nil {
					t.Fatalf("pull: %v", err)
				}
				if b, _ := os.ReadFile(filepath.Join(res.Image.LayerDirs[0], "c")); string(b) != "pwned" {
					t.Errorf("layer file c = %q", b)
				}
			} else if !errors.Is(err, unpack.ErrOutsideRoot) {
				t.Errorf("pull = %v, want %v", err, unpack.ErrOutsideRoot)
			}
			if b, _ := os.ReadFile(canary); string(b) != "canary" {
				t.Errorf("canary changed: %q", b)
			}
			var st unix.Stat_t
			unix.Stat(canary, &st)
			entries, _ := os.ReadDir(canaryDir)
			if st.Nlink != 1 || len(entries) != 1 {
				t.Errorf("canary folder touched: %d entries, canary nlink %d", len(entries), st.Nlink)
			}
			if name != "overwrite-canary" {
				if imgs, _ := s.List(); len(imgs) != 0 {
					t.Errorf("a refused image was stored")
				}
			}
		})
	}
}

// TestConcurrentPulls: two processes pull the same image into one store
// at once; both succeed and every blob and layer is stored once.
func TestConcurrentPulls(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "pull")
	ref := testenv.PushEdgeImage(t, testenv.SharedRegistry(t))
	root := t.TempDir()
	var wg sync.WaitGroup
	outs := make([]string, 2)
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b bytes.Buffer
			cmd := exec.Command(bin, "--root", root, ref)
			cmd.Stdout, cmd.Stderr = &b, &b
			err := cmd.Run()
			outs[i], codes[i] = b.String(), cmd.ProcessState.ExitCode()
			if err != nil && codes[i] == 0 {
				codes[i] = -1
			}
		}()
	}
	wg.Wait()
	for i := range 2 {
		if codes[i] != 0 {
			t.Errorf("pull %d: exit %d\n%s", i, codes[i], outs[i])
		}
	}
	s, _ := store.Open(root)
	imgs, _ := s.List()
	if len(imgs) != 1 {
		t.Fatalf("%d images, want 1", len(imgs))
	}
	blobs, _ := os.ReadDir(filepath.Join(root, "images/blobs/sha256"))
	layers, _ := os.ReadDir(filepath.Join(root, "layers"))
	if want := 2 + len(imgs[0].Manifest.Layers); len(blobs) != want || len(layers) != len(imgs[0].Manifest.Layers) {
		t.Errorf("%d blobs and %d layers stored, want %d and %d", len(blobs), len(layers), want, len(imgs[0].Manifest.Layers))
	}
	if problems, err := s.Verify(nil); err != nil || len(problems) != 0 {
		t.Errorf("verify: %v %v", problems, err)
	}
}

// TestBasicAuth: a registry with htpasswd wants the password that
// `docker login` stored in config.json.
func TestBasicAuth(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "htpasswd")
	bin := testenv.Bin(t, "pull")
	reg := testenv.NewRegistry(t, testenv.RegistryOptions{User: "alice", Pass: "wonderland"})
	ref := testenv.PushBusybox(t, reg)

	cfgDir := t.TempDir()
	run := func() (string, int) {
		cmd := exec.Command(bin, "--root", t.TempDir(), ref)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+cfgDir)
		return testenv.RunCmd(t, cmd)
	}
	out, code := run()
	if code != 125 || !strings.Contains(out, "401") {
		t.Errorf("without credentials: exit %d\n%s", code, out)
	}
	auth := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Addr, "YWxpY2U6d29uZGVybGFuZA==") // alice:wonderland
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(auth), 0o600)
	if out, code := run(); code != 0 {
		t.Errorf("with ~/.docker/config.json: exit %d\n%s", code, out)
	}
}

// TestMirrorAndSkopeoReadsStore: docker.io names served by a mirror, and
// the store is an OCI layout skopeo reads by the short name.
func TestMirrorAndSkopeoReadsStore(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	testenv.PushDebian(t, reg)
	s := newStore(t)
	res, err := image.Pull(context.Background(), s, "debian:bookworm", image.Options{
		Registry: mustRegistryOptions(t, []string{"http://" + reg.Addr}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Ref != "docker.io/library/debian:bookworm" {
		t.Errorf("stored as %q", res.Image.Ref)
	}
	out, code := testenv.Run(t, "skopeo", "inspect", "oci:"+s.Dir()+":debian:bookworm")
	if code != 0 || !strings.Contains(out, res.Image.Digest.String()) {
		t.Errorf("skopeo inspect: exit %d\n%s", code, out)
	}
	if _, err := s.Lookup("debian:bookworm"); err != nil {
		t.Error(err)
	}
}

func mustRegistryOptions(t *testing.T, mirrors []string) (o registry.Options) {
	t.Helper()
	t.Setenv("MINI_DOCKER_CONFIG", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	o, err := image.RegistryOptions(mirrors, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestMaxConcurrent: no more layer downloads at once than asked for.
func TestMaxConcurrent(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	ref := testenv.PushEdgeImage(t, reg) // three layers
	target, _ := url.Parse("http://" + reg.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var inflight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			n := inflight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(150 * time.Millisecond) // hold the slot: overlapping downloads become visible
			defer inflight.Add(-1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref = strings.TrimPrefix(srv.URL, "http://") + strings.TrimPrefix(ref, reg.Addr)
	for _, max := range []int{1, 3} {
		peak.Store(0)
		if _, err := image.Pull(context.Background(), newStore(t), ref, image.Options{MaxConcurrent: max}); err != nil {
			t.Fatal(err)
		}
		// The config is fetched alone first; then the layers, max at a time.
		if got := peak.Load(); got != int64(max) {
			t.Errorf("--max-concurrent %d: %d blob downloads at once", max, got)
		}
	}
}

// TestRegistryOptionsSources: mirrors come from the flag, the
// environment and daemon.json, in that order; bare hosts get a scheme.
func TestRegistryOptionsSources(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "daemon.json")
	os.WriteFile(cfg, []byte(`{"registry-mirrors":["https://mirror.example"],"insecure-registries":["reg.lan:5000"]}`), 0o644)
	t.Setenv("MINI_DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv(image.MirrorEnv, "127.0.0.1:5000")
	o, err := image.RegistryOptions([]string{"http://flag.example"}, []string{"other:1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Mirrors, " "); got != "http://flag.example http://127.0.0.1:5000 https://mirror.example" {
		t.Errorf("mirrors = %s", got)
	}
	if got := strings.Join(o.Insecure, " "); got != "reg.lan:5000 other:1" {
		t.Errorf("insecure = %s", got)
	}
	os.WriteFile(cfg, []byte(`{"registry-mirrors":`), 0o644)
	if _, err := image.RegistryOptions(nil, nil); err == nil || !strings.Contains(err.Error(), cfg) {
		t.Errorf("a broken daemon.json gives %v", err)
	}
}

// TestLayerLimitsSources: the bounds on layers come from daemon.json,
// and the flags win; bad values are refused with the key's name.
func TestLayerLimitsSources(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "daemon.json")
	t.Setenv("MINI_DOCKER_CONFIG", cfg)
	os.WriteFile(cfg, []byte(`{"max-layer-size":"1g","max-layer-ratio":50,"store-reserve":10}`), 0o644)
	lim, res, err := image.LayerLimits("", -1, -1)
	if err != nil || lim.MaxLayerSize != 1<<30 || lim.MaxLayerRatio != 50 || res != 10 {
		t.Errorf("from daemon.json: %+v %v %v", lim, res, err)
	}
	lim, res, err = image.LayerLimits("2m", 0, 0)
	if err != nil || lim.MaxLayerSize != 2<<20 || lim.MaxLayerRatio != 0 || res != 0 {
		t.Errorf("flags over daemon.json: %+v %v %v", lim, res, err)
	}
	os.WriteFile(cfg, []byte(`{}`), 0o644)
	if lim, res, err := image.LayerLimits("", -1, -1); err != nil || lim != (image.Limits{}) || res != store.DefaultReserve {
		t.Errorf("defaults: %+v %v %v", lim, res, err)
	}
	for _, bad := range []string{`{"max-layer-size":"lots"}`, `{"max-layer-ratio":-1}`, `{"store-reserve":100}`, `{"store-reserve":-2}`} {
		os.WriteFile(cfg, []byte(bad), 0o644)
		if _, _, err := image.LayerLimits("", -1, -1); err == nil || !strings.Contains(err.Error(), cfg) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestHumanSize: Docker's decimal sizes, 3 digits, whole bytes below a
// kilobyte (a rate of 12.7 B/s shows as 12B).
func TestHumanSize(t *testing.T) {
	for f, want := range map[float64]string{0: "0B", 12.7: "12B", 999: "999B", 1000: "1kB", 1234567: "1.23MB", 1.5e9: "1.5GB"} {
		if got := image.HumanSize(f); got != want {
			t.Errorf("HumanSize(%v) = %q, want %q", f, got, want)
		}
	}
}
