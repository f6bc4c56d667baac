// Package debianfs makes, once, and caches what tests and lessons run on
// a Debian root filesystem need: a debootstrap tarball (Tar) and the tree
// it holds (Tree), under CacheDir.
package debianfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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

// Mirror is the Debian archive debootstrap fetches from
// (MINI_DOCKER_DEBIAN_MIRROR overrides).
func Mirror() string {
	if m := os.Getenv("MINI_DOCKER_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// Tar returns the path of a gzip tarball holding a Debian bookworm
// minbase root filesystem with iproute2 and procps, built once with
// debootstrap (about a minute) and cached in CacheDir. A file lock makes
// concurrent test processes wait for one build.
func Tar() (string, error) {
	tarball := filepath.Join(CacheDir(), "debian-bookworm-minbase.tar.gz")
	if err := makeOnce(tarball, ".lock", func() error { return debootstrapTar(tarball) }); err != nil {
		return "", err
	}
	return tarball, nil
}

// makeOnce runs build unless path exists, holding an exclusive lock on
// the file lockName next to path: concurrent test processes wait for one
// build.
func makeOnce(path, lockName string, build func() error) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(path), lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return nil // another process made it while we waited
	}
	return build()
}

// debootstrapTar makes the Debian tarball (Tar).
func debootstrapTar(tarball string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("build Debian rootfs: debootstrap not installed (run: sudo make setup)")
	}
	root, err := os.MkdirTemp(filepath.Dir(tarball), "debootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	out, err := exec.Command("debootstrap", "--variant=minbase", "--include=iproute2,procps",
		"bookworm", root, Mirror()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap bookworm: %v\n%s", err, tail(out, 20))
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
		return fmt.Errorf("tar Debian rootfs: %v\n%s", err, out)
	}
	return os.Rename(tmp, tarball)
}

// Tree returns a folder holding the cached Debian root filesystem
// extracted once, next to its tarball, to be read only (the lower layer
// of testenv.DebianRootfs's overlay); its name carries the tarball's size
// and time. Extracting is most of what a test on a Debian root
// costs: 3 minutes of an emulated CPU in the matrix's TCG guests
// (gunzip, 7,000 files written to ext4, and removed after), 6 s natively.
func Tree() (string, error) {
	tarball, err := Tar()
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(tarball)
	if err != nil {
		return "", err
	}
	tree := fmt.Sprintf("%s.%d-%d.d", strings.TrimSuffix(tarball, ".tar.gz"), fi.Size(), fi.ModTime().Unix())
	return tree, makeOnce(tree, ".tree.lock", func() error { // (tree is unused when this fails)
		tmp, err := os.MkdirTemp(filepath.Dir(tree), "extract-")
		if err == nil {
			err = os.Chmod(tmp, 0o755) // (a root filesystem's top is 0755)
		}
		if err == nil {
			if out, xerr := exec.Command("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
				"-C", tmp, "-xzf", tarball).CombinedOutput(); xerr != nil {
				err = fmt.Errorf("extract %s: %v\n%s", tarball, xerr, out)
			}
		}
		if err == nil {
			err = os.Rename(tmp, tree)
		}
		if err != nil && tmp != "" {
			os.RemoveAll(tmp)
		}
		return err
	})
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "") + "\n"
}
