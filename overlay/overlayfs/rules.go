package overlayfs

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// procFilesystems lists the filesystem types the kernel knows.
const procFilesystems = "/proc/filesystems"

// checkRules checks, before any system call, the rules the kernel enforces
// on an overlay mount, so that a refusal names the broken rule and how to
// fix it (the kernel itself only returns EINVAL and writes the reason to
// its log).
func checkRules(o Options) error {
	if err := checkLowers(o); err != nil {
		return err
	}
	if err := checkDir("merged dir (the mount point)", o.Merged); err != nil {
		return err
	}
	if o.ReadOnly {
		if o.Upper != "" || o.Work != "" {
			return hinted("drop --upper and --work, or drop --readonly", "a read-only overlay has no upper or work dir")
		}
		return checkNotInUse(o)
	}
	if o.Upper == "" || o.Work == "" {
		return hinted("give both --upper DIR and --work DIR, or --readonly for a lower-only overlay",
			"a writable overlay needs an upper dir and a work dir")
	}
	if err := checkDir("upper dir", o.Upper); err != nil {
		return err
	}
	if err := checkDir("work dir", o.Work); err != nil {
		return err
	}
	if err := checkUpperNotOverlay(o.Upper); err != nil {
		return err
	}
	if err := checkSameMount(o.Upper, o.Work); err != nil {
		return err
	}
	if err := checkSeparate(o.Upper, o.Work); err != nil {
		return err
	}
	if err := checkWorkEmpty(o.Work); err != nil {
		return err
	}
	return checkNotInUse(o)
}

// checkLowers: at least one lower layer (two without an upper: a single
// read-only layer is no overlay at all), at most 500, every one a folder.
func checkLowers(o Options) error {
	switch {
	case len(o.Lower) == 0:
		return hinted("give --lower DIR[:DIR...]", "no lower dir: an overlay needs at least one read-only layer")
	case o.ReadOnly && len(o.Lower) < 2:
		return hinted("add a second --lower layer, or use a read-only bind mount: mount --bind -o ro DIR MERGED",
			"a read-only overlay needs at least 2 lower dirs (the kernel: \"at least 2 lowerdir are needed while upperdir nonexistent\")")
	case len(o.Lower) > MaxLowerLayers:
		return hinted("squash layers together", "%d lower dirs: the kernel stacks at most %d", len(o.Lower), MaxLowerLayers)
	}
	for _, l := range o.Lower {
		if err := checkDir("lower dir", l); err != nil {
			return err
		}
		if l == o.Upper || l == o.Work {
			return hinted("a container's upper and work dirs are its own, never one of the image's layers",
				"lower dir %s is also the upper or work dir", l)
		}
	}
	return nil
}

// checkDir: the folder exists and is a folder.
func checkDir(what, dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return hinted(fmt.Sprintf("create it first: mkdir -p %s", dir), "%s %s: no such directory", what, dir)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !fi.IsDir() {
		return hinted("overlay layers and mount points are directories", "%s %s: not a directory", what, dir)
	}
	return nil
}

// checkUpperNotOverlay: the upper layer needs what overlay itself does not
// offer to a layer stacked on it (trusted.* xattrs for whiteouts and
// opaque markers, RENAME_WHITEOUT, O_TMPFILE), so it cannot live on an
// overlay: this is why Docker-in-Docker puts /var/lib/docker on a volume.
func checkUpperNotOverlay(upper string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(upper, &st); err != nil {
		return fmt.Errorf("statfs upper dir %s: %w", upper, err)
	}
	if st.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return hinted("put the upper and work dirs on a real filesystem (ext4, xfs, tmpfs), e.g. a tmpfs: mount -t tmpfs tmpfs DIR",
			"upper dir %s is on an overlay filesystem: the kernel cannot use an overlay as an upper layer", upper)
	}
	return nil
}

// checkSameMount: the kernel builds each copy-up in the work dir and then
// rename(2)s it into the upper dir, and rename works only within one
// mount (the kernel: "workdir and upperdir must reside under the same
// mount").
func checkSameMount(upper, work string) error {
	u, err := mountID(upper)
	if err != nil {
		return err
	}
	w, err := mountID(work)
	if err != nil {
		return err
	}
	if u != w {
		return hinted("create the work dir next to the upper dir, e.g. DIR/upper and DIR/work",
			"upper dir %s and work dir %s are on different mounts: the kernel renames copy-ups from work to upper, which works only within one mount", upper, work)
	}
	return nil
}

func mountID(path string) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, fmt.Errorf("statx %s: %w", path, err)
	}
	return stx.Mnt_id, nil
}

// checkSeparate: neither of upper and work may be inside the other (the
// kernel: "workdir and upperdir must be separate subtrees").
func checkSeparate(upper, work string) error {
	inside := func(a, b string) bool {
		rel, err := filepath.Rel(b, a)
		return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."))
	}
	if inside(upper, work) || inside(work, upper) {
		return hinted("use two sibling folders, e.g. DIR/upper and DIR/work",
			"upper dir %s and work dir %s must be separate folders, neither inside the other", upper, work)
	}
	return nil
}

// checkWorkEmpty: the work dir is the kernel's own. It must be empty, or
// hold only what the kernel left there at an earlier mount of the same
// overlay (its work/ and index/ folders, which it cleans up at mount time).
func checkWorkEmpty(work string) error {
	entries, err := os.ReadDir(work)
	if err != nil {
		return fmt.Errorf("read work dir: %w", err)
	}
	for _, e := range entries {
		if e.Name() != "work" && e.Name() != "index" {
			return hinted("give an empty folder as --work (the kernel keeps its scratch files there)",
				"work dir %s is not empty: it holds %q", work, e.Name())
		}
	}
	return nil
}

// checkNotInUse: one overlay per mount point (a second one would stack on
// it and hide it), and two mounted overlays sharing one upper or work dir
// would corrupt each other (the kernel warns, or refuses with EBUSY when the
// index feature is on). Lower dirs, on the other hand, may be shared by
// any number of overlays: that is how containers share an image.
func checkNotInUse(o Options) error {
	mounts, err := overlayMounts(mountinfoPath)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.Merged == o.Merged {
			return hinted(fmt.Sprintf("unmount it first: overlay umount %s", o.Merged),
				"an overlay is already mounted on %s", o.Merged)
		}
		if o.ReadOnly {
			continue
		}
		if m.Upper == o.Upper {
			return hinted("give each container its own upper and work dirs",
				"upper dir %s is already in use by the overlay mounted on %s", o.Upper, m.Merged)
		}
		if m.Work == o.Work {
			return hinted("give each container its own upper and work dirs",
				"work dir %s is already in use by the overlay mounted on %s", o.Work, m.Merged)
		}
	}
	return nil
}

// requireOverlay checks that the kernel knows the overlay filesystem. A
// kernel built with overlay as a module loads it on the first mount
// attempt (fsopen asks for "fs-overlay"), so try that before giving up.
func requireOverlay(filesystems string) error {
	ok, err := listsOverlay(filesystems)
	if err != nil || ok {
		return err
	}
	if fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC); err == nil {
		unix.Close(fd)
		return nil
	}
	ok, err = listsOverlay(filesystems)
	if err != nil || ok {
		return err
	}
	return overlayMissing()
}

func overlayMissing() error {
	return hinted("load the module: modprobe overlay (the kernel needs CONFIG_OVERLAY_FS)",
		"the kernel has no overlay filesystem: \"overlay\" is not in %s", procFilesystems)
}

// listsOverlay reports whether a /proc/filesystems file lists overlay
// (lines like "nodev\toverlay").
func listsOverlay(filesystems string) (bool, error) {
	f, err := os.Open(filesystems)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", filesystems, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[len(fields)-1] == "overlay" {
			return true, nil
		}
	}
	return false, sc.Err()
}
