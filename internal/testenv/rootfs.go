package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// CacheDir holds what is slow to make and safe to keep between runs: the
// Debian root filesystem tarball. Override with MINI_DOCKER_TEST_CACHE.
func CacheDir() string {
	if d := os.Getenv("MINI_DOCKER_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/cache/mini-docker-test"
}

// DebianMirror is the Debian archive debootstrap fetches from
// (MINI_DOCKER_DEBIAN_MIRROR overrides).
func DebianMirror() string {
	if m := os.Getenv("MINI_DOCKER_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// DebianTar returns the path of a gzip tarball holding a Debian bookworm
// minbase root filesystem with iproute2 and procps, built once with
// debootstrap (about a minute) and cached in CacheDir. A file lock makes
// concurrent test processes wait for one build.
func DebianTar(t testing.TB) string {
	t.Helper()
	p, err := EnsureDebianTar()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// EnsureDebianTar is DebianTar for callers without a testing.TB (the
// lesson runner, the demo).
func EnsureDebianTar() (string, error) {
	dir := CacheDir()
	tarball := filepath.Join(dir, "debian-bookworm-minbase.tar.gz")
	if _, err := os.Stat(tarball); err == nil {
		return tarball, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(tarball); err == nil {
		return tarball, nil // another process built it while we waited
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", fmt.Errorf("build Debian rootfs: debootstrap not installed (run: sudo make setup)")
	}
	root, err := os.MkdirTemp(dir, "debootstrap-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	out, err := exec.Command("debootstrap", "--variant=minbase", "--include=iproute2,procps",
		"bookworm", root, DebianMirror()).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("debootstrap bookworm: %v\n%s", err, tail(out, 20))
	}
	// An image has no cached packages or device nodes: Docker's own
	// debian images ship an empty /dev and no apt lists.
	for _, p := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		entries, _ := os.ReadDir(filepath.Join(root, p))
		for _, e := range entries {
			if e.Type().IsRegular() {
				os.Remove(filepath.Join(root, p, e.Name()))
			}
		}
	}
	devs, _ := os.ReadDir(filepath.Join(root, "dev"))
	for _, e := range devs {
		os.RemoveAll(filepath.Join(root, "dev", e.Name()))
	}
	tmp := tarball + ".tmp"
	out, err = exec.Command("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
		"-C", root, "-czf", tmp, ".").CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("tar Debian rootfs: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, tarball); err != nil {
		return "", err
	}
	return tarball, nil
}

// DebianRootfs extracts the cached Debian root filesystem into a fresh
// temporary folder, removed when the test ends.
func DebianRootfs(t testing.TB) string {
	t.Helper()
	tarball := DebianTar(t)
	dir := t.TempDir()
	if out, err := exec.Command("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
		"-C", dir, "-xzf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", tarball, err, out)
	}
	return dir
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

func tail(b []byte, n int) string {
	lines := splitLines(string(b))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := ""
	for _, l := range lines {
		s += l + "\n"
	}
	return s
}
