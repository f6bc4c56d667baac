package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// volumeImage is fourLayerImage with a VOLUME /vol that the image
// fills (vol/seed), as a Dockerfile's `VOLUME /vol` after a COPY makes it.
func volumeImage(t *testing.T, h *harness) string {
	t.Helper()
	img := fourLayerImage(t)
	img.Layers = append(img.Layers, testenv.Layer{Tar: testenv.LayerTar(testenv.Dir("vol"), testenv.File("vol/seed", "from the image\n")), Comment: "seed"})
	img.Config.Volumes = map[string]struct{}{"/vol": {}}
	b := make([]byte, 4)
	rand.Read(b)
	repo := "mdtest/volume:" + hex.EncodeToString(b)
	testenv.PushImage(t, h.reg, repo, img, testenv.FormatDocker)
	ref := h.reg.Ref(repo)
	h.mustHost("pull", "-q", ref)
	return ref
}

// mountOf returns the line of mountinfo (as a container printed it)
// whose mount point is target.
func mountOf(mountinfo, target string) string {
	for _, l := range strings.Split(mountinfo, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == target {
			return l
		}
	}
	return ""
}

// TestNamedVolume: a named volume is a folder under the state root,
// bind-mounted by chroot; a new one is filled from the image (copy-up)
// once; its content outlives the containers; it cannot be removed while
// a container (even a stopped one) uses it.
func TestNamedVolume(t *testing.T) {
	h := newHarness(t)
	ref := volumeImage(t, h)
	if out := h.mustHost("volume", "create", "data"); out != "data\n" {
		t.Fatalf("volume create printed %q", out)
	}
	if out := h.mustHost("volume", "ls"); out != "DRIVER    VOLUME NAME\nlocal     data\n" {
		t.Errorf("volume ls:\n%s", out)
	}
	var vs []map[string]any
	if err := json.Unmarshal([]byte(h.mustHost("volume", "inspect", "data")), &vs); err != nil || len(vs) != 1 {
		t.Fatalf("volume inspect: %v %v", vs, err)
	}
	data := filepath.Join(h.root, "volumes", "data", "_data")
	if vs[0]["Mountpoint"] != data || vs[0]["Driver"] != "local" || vs[0]["Scope"] != "local" || vs[0]["Name"] != "data" {
		t.Errorf("volume inspect: %v", vs[0])
	}
	// Copy-up: the image's /etc/app (b, a whited out) lands in the new volume.
	out := h.mustHost("run", "--name", "writer", "--network", "none", "-v", "data:/etc/app", ref,
		"sh", "-c", "ls /etc/app; echo kept > /etc/app/new; cat /proc/self/mountinfo")
	if !strings.HasPrefix(out, "b\n") {
		t.Errorf("the new volume was not filled from the image's /etc/app:\n%s", out)
	}
	// The mount is a bind of the volume's folder (mountinfo's fourth
	// field is the folder of its filesystem that is mounted).
	if l := mountOf(out, "/etc/app"); !strings.Contains(l, " "+data+" /etc/app rw,") {
		t.Errorf("the volume's mount: %q", l)
	}
	if b, err := os.ReadFile(filepath.Join(data, "new")); err != nil || string(b) != "kept\n" {
		t.Errorf("the volume's folder on the host: %q %v", b, err)
	}
	// Read-only, and no copy-up again: the volume's own content wins.
	out, _, code := h.host("run", "--rm", "--network", "none", "-v", "data:/etc/app:ro", ref, "sh", "-c", "ls /etc/app; touch /etc/app/x")
	if code != 1 || out != "b\nnew\n" {
		t.Errorf("read-only volume: exit %d\n%s", code, out)
	}
	// In use by a stopped container: refused with Docker's words, exit 1.
	_, errOut, code := h.host("volume", "rm", "data")
	id := strings.TrimSpace(h.mustHost("inspect", "--format", "{{.Id}}", "writer"))
	if code != 1 || !strings.Contains(errOut, "remove data: volume is in use - ["+id+"]") {
		t.Errorf("volume rm of a used volume: exit %d, %q", code, errOut)
	}
	h.mustHost("rm", "writer")
	if out := h.mustHost("volume", "rm", "data"); out != "data\n" {
		t.Errorf("volume rm printed %q", out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the volume's folder is still there: %v", err)
	}
	if _, errOut, code := h.host("volume", "rm", "data"); code != 1 || !strings.Contains(errOut, "get data: no such volume") {
		t.Errorf("volume rm of a missing volume: exit %d, %q", code, errOut)
	}
	h.assertNoLeaks()
}

// TestAnonymousVolumes: the image's VOLUME gets an anonymous volume,
// filled from the image; rm -v and run --rm remove it, plain rm keeps it
// for volume prune; --volumes-from shares it.
func TestAnonymousVolumes(t *testing.T) {
	h := newHarness(t)
	ref := volumeImage(t, h)
	h.mustHost("run", "--name", "srcbox", "--network", "none", ref, "sh", "-c", "echo more >> /vol/seed")
	var mounts []struct{ Type, Name, Source, Destination string }
	if err := json.Unmarshal([]byte(h.mustHost("inspect", "--format", "{{json .Mounts}}", "srcbox")), &mounts); err != nil || len(mounts) != 1 {
		t.Fatalf("inspect .Mounts: %v %v", mounts, err)
	}
	m := mounts[0]
	if m.Type != "volume" || m.Destination != "/vol" || !hex64.MatchString(m.Name) || m.Source != filepath.Join(h.root, "volumes", m.Name, "_data") {
		t.Errorf("the anonymous volume: %+v", m)
	}
	if b, _ := os.ReadFile(filepath.Join(m.Source, "seed")); string(b) != "from the image\nmore\n" {
		t.Errorf("the volume holds %q", b)
	}
	// --volumes-from srcbox:ro: the same volume, read-only.
	out, _, code := h.host("run", "--rm", "--network", "none", "--volumes-from", "srcbox:ro", ref, "sh", "-c", "cat /vol/seed; touch /vol/x")
	if code == 0 || out != "from the image\nmore\n" {
		t.Errorf("--volumes-from srcbox:ro: exit %d\n%s", code, out)
	}
	// rm -v removes it.
	h.mustHost("rm", "-v", "srcbox")
	if _, err := os.Stat(m.Source); !os.IsNotExist(err) {
		t.Errorf("rm -v left the anonymous volume: %v", err)
	}
	// run --rm removes it; -v /ctr is one too.
	h.mustHost("run", "--rm", "--network", "none", "-v", "/more", ref, "true")
	if out := h.mustHost("volume", "ls", "-q"); out != "" {
		t.Errorf("run --rm left volumes:\n%s", out)
	}
	// A start that fails once the volumes are made (an image VOLUME the
	// kernel refuses: a name over 255 bytes): --rm takes them all the same.
	h.mustHost("run", "--name", "base", "--network", "none", ref, "true")
	h.mustHost("commit", "-c", "VOLUME /"+strings.Repeat("a", 300), "base", "longvol:1")
	h.mustHost("rm", "-v", "base")
	if _, errOut, code := h.host("run", "--rm", "--network", "none", "longvol:1", "true"); code != 125 || !strings.Contains(errOut, "file name too long") {
		t.Errorf("run --rm of an image whose VOLUME has a 300-byte name: exit %d %q, want 125 and file name too long", code, errOut)
	}
	if out := h.mustHost("volume", "ls", "-q"); out != "" {
		t.Errorf("run --rm that failed to start left volumes:\n%s", out)
	}
	// rm without -v keeps it, until volume prune.
	h.mustHost("run", "--name", "other", "--network", "none", ref, "true")
	h.mustHost("rm", "other")
	h.mustHost("volume", "create", "named")
	vols := strings.Fields(h.mustHost("volume", "ls", "-q"))
	if len(vols) != 2 {
		t.Fatalf("volume ls -q: %q", vols)
	}
	out = h.mustHost("volume", "prune", "-f")
	if !regexp.MustCompile(`^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: 15B\n$`).MatchString(out) {
		t.Errorf("volume prune:\n%s", out)
	}
	if out := h.mustHost("volume", "ls", "-q"); out != "named\n" {
		t.Errorf("after prune (named volumes stay without -a): %q", out)
	}
	h.mustHost("volume", "prune", "-f", "-a")
	if out := h.mustHost("volume", "ls", "-q"); out != "" {
		t.Errorf("after prune -a: %q", out)
	}
	h.assertNoLeaks()
}

// TestMountFlags: --mount's three types with their options, --tmpfs,
// and -v making a missing host folder, each as the mount it is in the
// container's mountinfo; bad specs are refused with exit 125 and leave
// no container and no volume behind.
func TestMountFlags(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("host\n"), 0o644)
	missing := filepath.Join(t.TempDir(), "made", "by", "run")
	out := h.mustHost("run", "--rm", "--network", "none",
		"--mount", "type=bind,source="+src+",target=/b,readonly,bind-propagation=rshared",
		"--mount", "type=tmpfs,destination=/t,tmpfs-size=2m,tmpfs-mode=1700",
		"--mount", "type=volume,src=mvol,dst=/v,volume-nocopy",
		"--tmpfs", "/run:size=1m,exec",
		"-v", missing+":/m",
		ref, "sh", "-c", "cat /b/f; stat -c %a /t; cat /proc/self/mountinfo")
	if !strings.HasPrefix(out, "host\n1700\n") {
		t.Errorf("bind and tmpfs content:\n%s", out)
	}
	for target, want := range map[string]*regexp.Regexp{
		"/b":   regexp.MustCompile(" " + regexp.QuoteMeta(src) + ` /b ro,[^ ]* shared:\d+ - `),
		"/t":   regexp.MustCompile(` / /t rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=2048k,mode=1700`),
		"/v":   regexp.MustCompile(" " + regexp.QuoteMeta(filepath.Join(h.root, "volumes", "mvol", "_data")) + " /v rw,"),
		"/run": regexp.MustCompile(` / /run rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=1024k`),
		"/m":   regexp.MustCompile(" " + regexp.QuoteMeta(missing) + " /m rw,"),
	} {
		if l := mountOf(out, target); !want.MatchString(l) {
			t.Errorf("mount %s: %q, want %s", target, l, want)
		}
	}
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("-v did not make the missing host folder: %v", err)
	}
	h.mustHost("volume", "rm", "mvol")

	// Bad input: Docker's words, exit 125, nothing made.
	h.mustHost("run", "--name", "taken", "--network", "none", ref, "true")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-v", "newvol:/x", "--mount", "type=bind,src=/nonexistent/src,dst=/y"}, `invalid mount config for type "bind": bind source path does not exist: /nonexistent/src`},
		{[]string{"-v", "newvol:/x", "--mount", "dst=/y,foo=1"}, `invalid argument "dst=/y,foo=1" for "--mount" flag: unexpected key 'foo' in 'foo=1'`},
		{[]string{"-v", "newvol:/x", "--tmpfs", "/x"}, "Duplicate mount point: /x"},
		{[]string{"-v", "newvol:/x", "--name", "taken"}, `Conflict. The container name "/taken" is already in use`},
		{[]string{"-v", "newvol:/x", "--volumes-from", "nosuch"}, "No such container: nosuch"},
	} {
		args := append(append([]string{"run", "--network", "none"}, tc.args...), ref, "true")
		_, errOut, code := h.host(args...)
		if code != 125 || !strings.Contains(errOut, tc.want) {
			t.Errorf("run %s: exit %d, %q; want 125 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	if out := h.mustHost("volume", "ls", "-q"); out != "" {
		t.Errorf("refused runs left volumes: %q", out)
	}
	if out := h.mustHost("ps", "-aq"); len(strings.Fields(out)) != 1 {
		t.Errorf("refused runs left containers: %q", out)
	}
	h.mustHost("rm", "taken")
	h.assertNoLeaks()
}
