package main

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tarNames lists the names in a tar stream.
func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("read the tar stream: %v", err)
		}
		names = append(names, h.Name)
	}
}

// TestCp: files both ways, into a volume, folders and their content
// (SRC/.), tar streams on stdout and stdin, owners with and without -a,
// symlinks with and without -L, a stopped container, and Docker's
// messages (exit 1) for what is not there, with nothing made.
func TestCp(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-d", "--name", "box", "--network", "none", "-v", "cpvol:/data", ref, "sh", "-c",
		"mkdir -p /srv/site/css && echo page > /srv/site/index.html && echo red > /srv/site/css/a.css && ln -sf /srv/site/index.html /lnk && sleep 300")
	h.mustHost("exec", "box", "sh", "-c", "until [ -e /lnk ]; do sleep 0.1; done")
	host := t.TempDir()
	in := filepath.Join(host, "in.txt")
	os.WriteFile(in, []byte("from the host\n"), 0o640)
	os.Chown(in, 1234, 1234)

	// Host to container: a new name, into a folder, into a volume; root
	// owns what cp made, -a keeps the owner.
	h.mustHost("cp", in, "box:/tmp/renamed")
	h.mustHost("cp", in, "box:/tmp/")
	h.mustHost("cp", "-a", in, "box:/data/")
	out := h.mustHost("exec", "box", "sh", "-c", "cat /tmp/renamed; stat -c '%u %a %n' /tmp/renamed /tmp/in.txt /data/in.txt")
	if out != "from the host\n0 640 /tmp/renamed\n0 640 /tmp/in.txt\n1234 640 /data/in.txt\n" {
		t.Errorf("after cp into the container:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(h.root, "volumes", "cpvol", "_data", "in.txt")); err != nil || string(b) != "from the host\n" {
		t.Errorf("cp into /data did not land in the volume's folder: %q %v", b, err)
	}

	// Container to host: a folder, its content only, a file over a file.
	h.mustHost("cp", "box:/srv/site", host)
	h.mustHost("cp", "box:/srv/site/.", filepath.Join(host, "flat"))
	h.mustHost("cp", "box:/srv/site/index.html", in)
	for p, want := range map[string]string{"site/index.html": "page\n", "site/css/a.css": "red\n", "flat/css/a.css": "red\n", "in.txt": "page\n"} {
		if b, err := os.ReadFile(filepath.Join(host, p)); err != nil || string(b) != want {
			t.Errorf("%s on the host: %q %v, want %q", p, b, err, want)
		}
	}
	// A symlink is copied as a link; -L copies what it points to.
	h.mustHost("cp", "box:/lnk", filepath.Join(host, "asis"))
	h.mustHost("cp", "-L", "box:/lnk", filepath.Join(host, "followed"))
	if l, err := os.Readlink(filepath.Join(host, "asis")); err != nil || l != "/srv/site/index.html" {
		t.Errorf("cp of a symlink: %q %v", l, err)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "followed")); string(b) != "page\n" {
		t.Errorf("cp -L gave %q, want what the link points to", b)
	}

	// Tar streams: out with the folder's name at the top, and in.
	cmd := h.command(false, "cp", "box:/srv/site", "-")
	tarOut, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(tarNames(t, tarOut), " "); !strings.Contains(names, "site/ ") || !strings.Contains(names, "site/css/a.css") {
		t.Errorf("cp box:/srv/site - wrote %s", names)
	}
	cmd = h.command(false, "cp", "-", "box:/data")
	cmd.Stdin = bytes.NewReader(tarOut)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cp - box:/data: %v %s", err, b)
	}
	if out := h.mustHost("exec", "box", "cat", "/data/site/css/a.css"); out != "red\n" {
		t.Errorf("after cp -: %q", out)
	}

	// What is not there: Docker's words, exit 1, nothing made.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cp", in, "box:/nonexistent/dir/f"}, "Could not find the file /nonexistent/dir in container box"},
		{[]string{"cp", "box:/nonexistent", host}, "Could not find the file /nonexistent in container box"},
		{[]string{"cp", in, "box:/etc/hostname/x"}, "extraction point is not a directory"},
		{[]string{"cp", in, "box:/tmp/newdir/"}, "no such directory"},
		{[]string{"cp", "nosuch:/x", host}, "No such container: nosuch"},
		{[]string{"cp", in, host}, "must specify at least one container source"},
	} {
		_, errOut, code := h.host(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if out := h.mustHost("exec", "box", "ls", "/tmp"); out != "in.txt\nrenamed\n" {
		t.Errorf("refused copies left files in /tmp: %q", out)
	}

	// A stopped container: its layers are mounted for the copy, and
	// unmounted after (assertNoLeaks).
	h.mustHost("kill", "box")
	h.mustHost("wait", "box")
	h.mustHost("cp", "box:/tmp/renamed", filepath.Join(host, "after-stop"))
	h.mustHost("cp", in, "box:/tmp/while-stopped")
	h.mustHost("start", "box")
	if out := h.mustHost("exec", "box", "cat", "/tmp/while-stopped"); out != "page\n" {
		t.Errorf("a file copied into the stopped container: %q", out)
	}
	h.mustHost("rm", "-f", "box")
	h.mustHost("volume", "rm", "cpvol")
	h.assertNoLeaks()
}

// TestCpSymlinkRace is CVE-2018-15664: while cp writes into
// /w/d/NAME and reads /w/d/NAME, the container swaps /w/d between a
// folder and a symlink to /. Resolved inside the container's root, the
// symlink leads to the container's own /, never to the host's: no copy
// lands on the host's /, and none reads the host's file.
func TestCpSymlinkRace(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	b := make([]byte, 6)
	rand.Read(b)
	name := "cp-race-" + hex.EncodeToString(b)
	secret := "/" + name + "-secret"
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(secret); os.Remove("/" + name) })
	h.mustHost("run", "-d", "--name", "racer", "--network", "none", ref, "sh", "-c",
		"mkdir -p /w; while true; do mkdir /w/d; rm -rf /w/d; ln -s / /w/d; rm /w/d; done")
	src := filepath.Join(t.TempDir(), "payload")
	os.WriteFile(src, []byte("payload\n"), 0o644)
	out := t.TempDir()
	for i := 0; i < 40; i++ {
		h.host("cp", src, "racer:/w/d/"+name)
		h.host("cp", "racer:/w/d/"+filepath.Base(secret), filepath.Join(out, "got"))
		if _, err := os.Stat("/" + name); err == nil {
			t.Fatalf("copy %d wrote the host's /%s", i, name)
		}
		if b, err := os.ReadFile(filepath.Join(out, "got")); err == nil && strings.Contains(string(b), "host secret") {
			t.Fatalf("copy %d read the host's %s", i, secret)
		}
	}
	// The copies that met the symlink went to the container's own /.
	if _, _, code := h.host("exec", "racer", "test", "-e", "/"+name); code != 0 {
		t.Logf("no copy met the symlink (the race went the other way every time)")
	}
	h.mustHost("rm", "-f", "racer")
	h.assertNoLeaks()
}

// A cp from a stopped container that dies mid-copy leaves nothing
// mounted: killed by SIGPIPE (cp box:/ - | head) or by SIGKILL, its
// fresh mount of the container's layers goes with it, and the container
// starts at the first try.
func TestCpKilledLeavesNoMount(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("create", "--name", "box", "--network", "none", ref, "sleep", "300")
	merged := ""
	mounted := func() bool {
		b, _ := os.ReadFile("/proc/self/mountinfo")
		return strings.Contains(string(b), h.root)
	}
	for _, sig := range []syscall.Signal{syscall.SIGPIPE, syscall.SIGKILL} {
		cmd := h.command(false, "cp", "box:/", "-")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(out, make([]byte, 4096)); err != nil {
			t.Fatalf("cp box:/ - wrote no 4 KiB: %v", err)
		}
		if sig == syscall.SIGKILL {
			cmd.Process.Kill() // stdout still open: cp was mid-copy
		}
		out.Close() // SIGPIPE at cp's next write
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
			t.Fatalf("cp box:/ - ended with %v, want killed by %v", err, sig)
		}
		if mounted() {
			b, _ := os.ReadFile("/proc/self/mountinfo")
			t.Errorf("after cp was killed by %v, a mount under %s is left:\n%s", sig, h.root, b)
			merged = "left"
		}
	}
	if merged == "" {
		h.mustHost("start", "box")
	}
	h.mustHost("rm", "-f", "box")
	h.assertNoLeaks()
}

// In a running container cp resolves a path as the container does, in
// its own mount namespace: through a symlink into a volume (the file
// lands in the volume, where the container sees it), and onto a file
// bound from the host, which cannot be replaced: refused with Docker's
// "device or resource busy", the host file unchanged; in a stopped
// container too.
func TestCpSeesTheContainersMounts(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	dir := t.TempDir()
	conf := filepath.Join(dir, "app.conf")
	os.WriteFile(conf, []byte("old\n"), 0o644)
	newfile := filepath.Join(dir, "newfile")
	os.WriteFile(newfile, []byte("new\n"), 0o644)
	h.mustHost("run", "-d", "--name", "box", "--network", "none", "-v", "cpmounts:/data", "-v", conf+":/app.conf", ref,
		"sh", "-c", "ln -s /data /link && echo in-volume > /data/inside && touch /ready && sleep 300")
	for i := 0; h.mustHost("exec", "box", "ls", "/") != "" && !strings.Contains(h.mustHost("exec", "box", "ls", "/"), "ready"); i++ {
		if i == 100 {
			t.Fatal("the container never made /ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.mustHost("cp", newfile, "box:/link/")
	if got := h.mustHost("exec", "box", "cat", "/data/newfile"); got != "new\n" {
		t.Errorf("cp into box:/link/ (a symlink to the volume /data): the container's /data/newfile holds %q", got)
	}
	out := filepath.Join(dir, "out")
	h.mustHost("cp", "box:/link/inside", out)
	if b, _ := os.ReadFile(out); string(b) != "in-volume\n" {
		t.Errorf("cp box:/link/inside (in the volume): %q", b)
	}
	_, errOut, code := h.host("cp", newfile, "box:/app.conf")
	if code != 1 || !strings.Contains(errOut, "device or resource busy") {
		t.Errorf("cp onto the bound file /app.conf: exit %d %q, want 1 and device or resource busy", code, errOut)
	}
	if b, _ := os.ReadFile(conf); string(b) != "old\n" {
		t.Errorf("the host's bound file now holds %q", b)
	}
	if got := h.mustHost("exec", "box", "cat", "/app.conf"); got != "old\n" {
		t.Errorf("the container's /app.conf holds %q", got)
	}
	// Stopped, the same: Docker's daemon mounts the binds for cp.
	h.mustHost("kill", "box")
	h.mustHost("wait", "box")
	_, errOut, code = h.host("cp", newfile, "box:/app.conf")
	if code != 1 || !strings.Contains(errOut, "device or resource busy") {
		t.Errorf("cp onto the bound file /app.conf of the stopped box: exit %d %q, want 1 and device or resource busy", code, errOut)
	}
	if b, _ := os.ReadFile(conf); string(b) != "old\n" {
		t.Errorf("after a cp to the stopped box, the host's bound file holds %q", b)
	}
	h.mustHost("rm", "-f", "box")
	h.mustHost("volume", "rm", "cpmounts")
	h.assertNoLeaks()
}
