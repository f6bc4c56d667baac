package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv/debianfs"
)

// DebianTar returns the path of a gzip tarball holding a Debian bookworm
// minbase root filesystem with iproute2 and procps, built once with
// debootstrap (about a minute) and cached in CacheDir (debianfs.Tar).
func DebianTar(t testing.TB) string {
	t.Helper()
	p, err := debianfs.Tar()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// EnsureDebianTar is DebianTar for callers without a testing.TB (the
// lesson runner, the demo).
func EnsureDebianTar() (string, error) { return debianfs.Tar() }

// DebianRootfs returns a writable Debian root filesystem of its own: an
// overlay mount in a fresh temporary folder, the cached tree
// (debianfs.Tree) below and the test's changes above, unmounted and
// removed when the test ends.
func DebianRootfs(t testing.TB) string {
	t.Helper()
	tree, err := debianfs.Tree()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root, upper, work := filepath.Join(dir, "root"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{root, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + tree + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", root, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay %s on %s: %v", opts, root, err)
	}
	// (before TempDir's removal: cleanups run last first)
	t.Cleanup(func() {
		if err := unix.Unmount(root, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", root, err)
		}
	})
	return root
}

// BusyboxRootfs makes a small root filesystem from the static busybox
// binary of the busybox-static package and its applet links, in a fresh
// temporary folder.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := MakeBusyboxRootfs(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// MakeBusyboxRootfs lays out dir like the busybox image: /bin/busybox, a
// link per applet, and the usual empty top-level folders.
func MakeBusyboxRootfs(dir string) error {
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return fmt.Errorf("busybox rootfs: %w (install busybox-static: sudo make setup)", err)
	}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr/bin", "usr/sbin", "sbin", "var"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777|os.ModeSticky)
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("busybox --list-full: %w", err)
	}
	for _, applet := range splitLines(string(out)) {
		if applet == "" || applet == "bin/busybox" {
			continue
		}
		p := filepath.Join(dir, applet)
		os.MkdirAll(filepath.Dir(p), 0o755)
		rel, _ := filepath.Rel(filepath.Dir(p), filepath.Join(dir, "bin/busybox"))
		if err := os.Symlink(rel, p); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
