package jail

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/explain"
	"mini-docker/internal/units"
)

// mountAll mounts, under root and before pivot_root, what o asks for, in
// the order Docker does: the kernel filesystems, the user's binds, then
// the masked and read-only paths on top of them.
func mountAll(root string, o Options, ex *explain.Printer) error {
	// The host's device list is read now, while this process still sees
	// the host's /dev (before the /dev tmpfs is mounted and the pivot).
	var hostDevs []hostDevice
	if o.Privileged && o.Dev {
		var err error
		if hostDevs, err = hostDevices("/dev"); err != nil {
			return err
		}
		ex.Note("--privileged: %d host device nodes from /dev to copy into the container's /dev", len(hostDevs))
	}
	steps := []struct {
		on bool
		do func() error
	}{
		{o.Proc, func() error { return mountProc(root, ex) }},
		{o.Dev, func() error { return mountDev(root, o.Devpts, hostDevs, ex) }},
		{o.Devpts, func() error { return mountDevpts(root, o.Dev, ex) }},
		{o.Shm != "", func() error { return mountShm(root, o.Shm, ex) }},
		{o.Mqueue, func() error { return mountMqueue(root, ex) }},
		{o.Sys, func() error { return mountSys(root, o.Privileged, ex) }},
		{o.Cgroupfs, func() error { return mountCgroupfs(root, o.Privileged, ex) }},
	}
	for _, s := range steps {
		if s.on {
			if err := s.do(); err != nil {
				return err
			}
		}
	}
	if err := mountList(root, o, ex); err != nil {
		return err
	}
	if err := userMounts(root, o, ex); err != nil {
		return err
	}
	mask := func() error {
		for _, p := range o.Mask {
			if err := maskPath(root, p, ex); err != nil {
				return err
			}
		}
		return nil
	}
	readonly := func() error {
		for _, p := range o.ReadonlyPaths {
			if err := readonlyPath(root, p, ex); err != nil {
				return err
			}
		}
		return nil
	}
	// Docker's order for its own mounts; runc, for a bundle's list, makes
	// the read-only paths first (its finalizeRootfs).
	if len(o.Mounts) > 0 {
		mask, readonly = readonly, mask
	}
	if err := mask(); err != nil {
		return err
	}
	return readonly()
}

// Mount flags Docker puts on the kernel filesystems: no set-uid programs,
// no programs at all, no device nodes, where none belong.
const (
	nosuidNoexecNodev = unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV
)

// mountProc mounts a proc filesystem. It shows the processes of the PID
// namespace of the process that mounts it, so inside `unshare --pid` the
// jail sees only its own processes.
func mountProc(root string, ex *explain.Printer) error {
	return mountFS(root, "/proc", "proc", "proc", nosuidNoexecNodev, "", ex)
}

// mountDev builds Docker's minimal /dev: a small tmpfs with the harmless
// character devices and the links to /proc/self/fd. The host's /dev is
// never visible, so no disk or kernel memory device is reachable, unless
// hostDevs (--privileged) lists the host's nodes to copy in after them.
func mountDev(root string, devpts bool, hostDevs []hostDevice, ex *explain.Printer) error {
	if err := mountFS(root, "/dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k", ex); err != nil {
		return err
	}
	if err := populateDev(root, devpts, ex); err != nil {
		return err
	}
	dev := filepath.Join(root, "dev")
	for _, d := range hostDevs {
		if err := copyHostDevice(dev, d, ex); err != nil {
			return err
		}
	}
	return nil
}

// hostDevice is one device node of the host's /dev.
type hostDevice struct {
	rel      string // path under /dev, like "loop0" or "net/tun"
	mode     uint32 // type and permission bits (st_mode)
	rdev     uint64
	uid, gid uint32
}

// hostDevices lists the character and block devices under dir, as
// Docker does for --privileged (containerd's oci.HostDevices): it skips
// the directories of filesystems the container gets its own of (pts,
// shm, mqueue), fd, the bookkeeping of lxc/lxd/udev, and the console;
// symlinks and other files are not devices.
func hostDevices(dir string) ([]hostDevice, error) {
	var out []hostDevice
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := os.ReadDir(filepath.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("list host devices in %s: %w", filepath.Join(dir, rel), err)
		}
		for _, e := range entries {
			name := filepath.Join(rel, e.Name())
			if e.IsDir() {
				switch e.Name() {
				case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
					continue
				}
				if err := walk(name); err != nil {
					return err
				}
				continue
			}
			if e.Name() == "console" {
				continue
			}
			var st unix.Stat_t
			if unix.Lstat(filepath.Join(dir, name), &st) != nil {
				continue // gone meanwhile
			}
			if t := st.Mode & unix.S_IFMT; t != unix.S_IFCHR && t != unix.S_IFBLK {
				continue
			}
			out = append(out, hostDevice{rel: name, mode: st.Mode, rdev: st.Rdev, uid: st.Uid, gid: st.Gid})
		}
		return nil
	}
	return out, walk("")
}

// copyHostDevice makes the host's node d in the jail's /dev with the same
// major:minor, mode and owner (runc's mknodDevice). Nodes /dev already
// has (null, tty, the ptmx link, ...) are kept, as runc keeps them. In a
// user namespace mknod is refused: the host's node is bound instead.
func copyHostDevice(dev string, d hostDevice, ex *explain.Printer) error {
	p := filepath.Join(dev, d.rel)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	kind := "c"
	if d.mode&unix.S_IFMT == unix.S_IFBLK {
		kind = "b"
	}
	ex.Argv("mknod", "-m", fmt.Sprintf("%o", d.mode&0o7777), p, kind, fmt.Sprint(unix.Major(d.rdev)), fmt.Sprint(unix.Minor(d.rdev)))
	err := unix.Mknod(p, d.mode, int(d.rdev))
	if errors.Is(err, unix.EPERM) {
		f, cerr := os.Create(p)
		if cerr != nil {
			return fmt.Errorf("create %s: %w", p, cerr)
		}
		f.Close()
		return mount(ex, filepath.Join("/dev", d.rel), p, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mknod %s: %w", p, err)
	}
	// mknod applied the umask; the owner is the host node's (disk group, ...).
	if err := unix.Chmod(p, d.mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	if d.uid != 0 || d.gid != 0 {
		ex.Argv("chown", fmt.Sprintf("%d:%d", d.uid, d.gid), p)
		if err := os.Chown(p, int(d.uid), int(d.gid)); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
	}
	return nil
}

type device struct {
	name         string
	major, minor uint32
}

// devices are the character devices every container gets (runc's
// default list), each mode 0666.
var devices = []device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// makeDevice creates one device node. In a user namespace mknod(2) of a
// device is refused, so, like runc, it bind-mounts the host's node instead.
func makeDevice(dev string, d device, ex *explain.Printer) error {
	p := filepath.Join(dev, d.name)
	ex.Argv("mknod", "-m", "666", p, "c", fmt.Sprint(d.major), fmt.Sprint(d.minor))
	err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor)))
	if errors.Is(err, unix.EPERM) {
		f, cerr := os.Create(p)
		if cerr != nil {
			return fmt.Errorf("create %s: %w", p, cerr)
		}
		f.Close()
		return mount(ex, "/dev/"+d.name, p, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mknod %s: %w", p, err)
	}
	// mknod applied the umask; the nodes must be usable by every user.
	return os.Chmod(p, 0o666)
}

// mountDevpts gives the jail its own set of pseudo-terminals: with
// newinstance, the ptys it opens are numbered from 0 and the host's
// /dev/pts/N are not visible. gid=5 is the tty group, as in Docker.
func mountDevpts(root string, devTmpfs bool, ex *explain.Printer) error {
	err := mountFS(root, "/dev/pts", "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620,gid=5", ex)
	if errors.Is(err, unix.EINVAL) {
		// In a user namespace that does not map group 5, gid=5 is invalid:
		// like runc, mount without it (the ptys then belong to our group).
		err = mountFS(root, "/dev/pts", "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
			"newinstance,ptmxmode=0666,mode=0620", ex)
	}
	if err != nil {
		return err
	}
	if devTmpfs {
		return nil // mountDev linked /dev/ptmx to pts/ptmx
	}
	// The rootfs's own /dev: point its ptmx at the new instance, if it
	// has one. A link (often pts/ptmx already) is left alone: a bind
	// would follow it, from outside the root.
	ptmx := filepath.Join(root, "dev", "ptmx")
	if fi, err := os.Lstat(ptmx); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	return mount(ex, filepath.Join(root, "dev/pts/ptmx"), ptmx, "", unix.MS_BIND, "")
}

// mountShm mounts the POSIX shared memory tmpfs (64m in Docker, --shm-size).
func mountShm(root, size string, ex *explain.Printer) error {
	bytes, err := ShmBytes(size)
	if err != nil {
		return err
	}
	return mountFS(root, "/dev/shm", "shm", "tmpfs", nosuidNoexecNodev,
		fmt.Sprintf("mode=1777,size=%d", bytes), ex)
}

// mountMqueue mounts the POSIX message queues of the IPC namespace.
func mountMqueue(root string, ex *explain.Printer) error {
	return mountFS(root, "/dev/mqueue", "mqueue", "mqueue", nosuidNoexecNodev, "", ex)
}

// mountSys mounts sysfs read-only: it shows the network devices of the
// mounting process's network namespace. Inside a user namespace that does
// not own the network namespace the kernel refuses a new sysfs, and, like
// runc, the host's /sys is bind-mounted read-only instead. With
// --privileged Docker leaves it read-write (moby clears "ro" on /sys).
func mountSys(root string, rw bool, ex *explain.Printer) error {
	flags := uintptr(nosuidNoexecNodev | unix.MS_RDONLY)
	if rw {
		flags = nosuidNoexecNodev
	}
	err := mountFS(root, "/sys", "sysfs", "sysfs", flags, "", ex)
	if errors.Is(err, unix.EPERM) {
		if rw {
			return bindRec(ex, "/sys", filepath.Join(root, "sys"))
		}
		return bindReadOnly(ex, "/sys", filepath.Join(root, "sys"))
	}
	return err
}

// mountCgroupfs shows the container its own cgroup at /sys/fs/cgroup,
// as runc does for Docker (libcontainer's mountCgroupV1/V2), by the
// host's mode (cgroupctl's detection):
//
//   - v2: one cgroup2 mount, read-only. Inside a cgroup namespace (Docker's
//     default on v2) its root is the container's group.
//   - v1 or hybrid: a tmpfs (rw, mode=755) holding, for each v1 hierarchy,
//     a read-only bind of the container's own group in it (its path in
//     /proc/self/cgroup: the chain joined the group before this step), so
//     memory.limit_in_bytes or pids.max are the container's, not the
//     host's. Co-mounted controllers ("cpu,cpuacct") get runc's symlinks
//     (cpu -> cpu,cpuacct). The hybrid host's cgroup2 tree is not shown,
//     as with runc. Inside a cgroup namespace each hierarchy is mounted
//     afresh instead: its root is then the namespace's, the container's group.
//
// With rw (--privileged) every one of these mounts is read-write, as
// moby clears "ro" on /sys/fs/cgroup for a privileged container.
func mountCgroupfs(root string, rw bool, ex *explain.Printer) error {
	ro := uintptr(unix.MS_RDONLY)
	if rw {
		ro = 0
	}
	host, err := cgroup.Detect()
	if err != nil {
		return err
	}
	dst := filepath.Join(root, "sys/fs/cgroup")
	if host.Mode == cgroup.V2 {
		err := mountFS(root, "/sys/fs/cgroup", "cgroup", "cgroup2", nosuidNoexecNodev|ro, "", ex)
		if errors.Is(err, unix.EPERM) {
			if rw {
				return bindRec(ex, host.V2Root, dst)
			}
			return bindReadOnly(ex, host.V2Root, dst)
		}
		return err
	}
	if err := mountFS(root, "/sys/fs/cgroup", "tmpfs", "tmpfs", nosuidNoexecNodev, "mode=755", ex); err != nil {
		return err
	}
	var binds []string // the mounts lockCgroupTree makes read-only
	inNS := inCgroupNamespace()
	seen := map[string]bool{}
	for _, h := range host.Hierarchies {
		name := filepath.Base(h.Point)
		if seen[name] {
			continue
		}
		seen[name] = true
		target := filepath.Join(dst, name)
		// The tmpfs was just mounted: it is empty, no lookup needed first.
		if err := os.Mkdir(target, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", target, unwrapPathError(err))
		}
		err = unix.EPERM
		if inNS {
			err = mount(ex, "cgroup", target, "cgroup", nosuidNoexecNodev|ro, strings.Join(h.Subsystems, ","))
		}
		if errors.Is(err, unix.EPERM) {
			// Outside a cgroup namespace, or in a user namespace, where a
			// v1 hierarchy can only be bound, not mounted.
			err = bindOwnGroup(ex, h, host.SelfPath(h), target)
		}
		if err != nil {
			return err
		}
		binds = append(binds, target)
		if strings.Contains(name, ",") {
			for _, c := range strings.Split(name, ",") {
				ex.Argv("ln", "-s", name, filepath.Join(dst, c))
				if err := os.Symlink(name, filepath.Join(dst, c)); err != nil && !errors.Is(err, os.ErrExist) {
					return fmt.Errorf("link /sys/fs/cgroup/%s: %w", c, err)
				}
			}
		}
	}
	return lockCgroupTree(ex, dst, binds, rw)
}

// lockCgroupTree gives every hierarchy under the tmpfs at dst runc's
// flags (ro, nosuid, nodev, noexec; rw for --privileged) and leaves the
// tmpfs itself read-write, as Docker shows it. A bind mount takes its
// source's flags, so each needs a change of its own after the bind: one
// mount_setattr(2) with AT_RECURSIVE changes the whole tree at once,
// where a remount changes one mount (a kernel before 5.12 has no
// mount_setattr: a remount per bind, then).
func lockCgroupTree(ex *explain.Printer, dst string, binds []string, rw bool) error {
	set := uint64(unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC)
	flags := uintptr(nosuidNoexecNodev) // the same, for a remount
	opts := "nosuid,nodev,noexec"
	if !rw {
		set, flags = set|unix.MOUNT_ATTR_RDONLY, flags|unix.MS_RDONLY
		opts = "ro," + opts
	}
	err := unix.MountSetattr(unix.AT_FDCWD, dst, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: set})
	if errors.Is(err, unix.ENOSYS) {
		for _, b := range binds {
			if err := remountBind(ex, b, flags); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("mount_setattr %s (%s, recursive): %w", dst, opts, err)
	}
	// What the printed lines do a mount at a time, with any mount(8):
	// util-linux 2.39's "ro=recursive" is the one call, and an older
	// mount(8) takes that option without a word and changes nothing.
	ex.Note("one mount_setattr(2) with AT_RECURSIVE: %s on every mount below %s at once, the tmpfs given back rw; a mount at a time:", opts, explain.Quote(dst))
	for _, b := range binds {
		ex.Argv("mount", "-o", "remount,bind,"+opts, b)
	}
	if rw {
		return nil
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, dst, 0, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("mount_setattr %s (remount,bind,rw): %w", dst, err)
	}
	return nil
}

// bindOwnGroup binds the process's own group of hierarchy h (self, from
// /proc/self/cgroup) at target; lockCgroupTree then gives it runc's
// flags. self is relative to the hierarchy's root; the host may show
// only part of it at h.Point (mountinfo's root field).
func bindOwnGroup(ex *explain.Printer, h cgroup.Hierarchy, self, target string) error {
	src := h.Point
	if rel, err := filepath.Rel(h.Root, self); self != "" && err == nil && !strings.HasPrefix(rel, "..") {
		src = filepath.Join(h.Point, rel)
	}
	return mount(ex, src, target, "", unix.MS_BIND|unix.MS_REC, "")
}

// inCgroupNamespace reports whether this process has a cgroup namespace of
// its own (unshare --cgroup): /proc here is still the host's, so PID 1 is
// the host's init. A namespace rooted below the hierarchy's root also
// shows in /proc/self/cgroup as "/" while the host's mounts then have a
// root outside it ("/.." in mountinfo).
func inCgroupNamespace() bool {
	self, err1 := os.Readlink("/proc/self/ns/cgroup")
	init, err2 := os.Readlink("/proc/1/ns/cgroup")
	return err1 == nil && err2 == nil && self != init
}

// bindMount mounts a host path at a path inside the root. The destination
// is resolved with securejoin, as runc does: a symlink in the rootfs
// (say /etc/hosts -> /etc/shadow of the host, or ../../..) is followed as
// if the rootfs were already /, so the mount can never land outside it.
func bindMount(root string, b Bind, ex *explain.Printer) error {
	st, err := os.Stat(b.Src)
	if err != nil {
		return fmt.Errorf("bind source %s: %w", b.Src, unwrapPathError(err))
	}
	dst, err := securejoin.SecureJoin(root, b.Dst)
	if err != nil {
		return fmt.Errorf("resolve bind destination %s in %s: %w", b.Dst, root, err)
	}
	if err := makeMountPoint(dst, st.IsDir()); err != nil {
		return err
	}
	if err := mount(ex, b.Src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if b.ReadOnly {
		if err := remountBindReadOnly(ex, dst); err != nil {
			return err
		}
	}
	return setPropagation(dst, b.Propagation, ex)
}

// maskPath hides a path as runc does for Docker: a directory under an
// empty read-only tmpfs (no options: the kernel's defaults), a file under
// the jail's own /dev/null (runc binds it after pivot_root, so the source
// is the container's /dev tmpfs, not the host's devtmpfs). Missing paths
// are skipped.
func maskPath(root, p string, ex *explain.Printer) error {
	dst, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return fmt.Errorf("resolve masked path %s: %w", p, err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return mount(ex, "tmpfs", dst, "tmpfs", unix.MS_RDONLY, "")
	}
	return mount(ex, nullDevice(root), dst, "", unix.MS_BIND, "")
}

// nullDevice is the jail's /dev/null when it has one (a character device
// 1:3, as --dev makes it), else the host's.
func nullDevice(root string) string {
	p := filepath.Join(root, "dev/null")
	var st unix.Stat_t
	if unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3) {
		return p
	}
	return "/dev/null"
}

// readonlyPath makes a path read-only: bind it onto itself, then remount
// that bind read-only. Missing paths are skipped.
func readonlyPath(root, p string, ex *explain.Printer) error {
	dst, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return fmt.Errorf("resolve read-only path %s: %w", p, err)
	}
	if _, err := os.Stat(dst); err != nil {
		return nil
	}
	if err := mount(ex, dst, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return remountBindReadOnly(ex, dst)
}

// bindRec bind-mounts a host path with its submounts, as it is.
func bindRec(ex *explain.Printer, src, dst string) error {
	if err := makeMountPoint(dst, true); err != nil {
		return err
	}
	return mount(ex, src, dst, "", unix.MS_BIND|unix.MS_REC, "")
}

// bindReadOnly bind-mounts a host path read-only.
func bindReadOnly(ex *explain.Printer, src, dst string) error {
	if err := makeMountPoint(dst, true); err != nil {
		return err
	}
	if err := mount(ex, src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return remountBindReadOnly(ex, dst)
}

// remountBindReadOnly: a bind mount takes the flags of its source; making
// it read-only is a second step. mount_setattr(2) sets the one flag and
// leaves the others as they are (what mount(8) 2.39 does for
// "remount,bind,ro"); before Linux 5.12 it is a remount.
func remountBindReadOnly(ex *explain.Printer, dst string) error {
	ex.Argv("mount", "-o", "remount,bind,ro", dst)
	err := unix.MountSetattr(unix.AT_FDCWD, dst, 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if errors.Is(err, unix.ENOSYS) {
		err = unix.Mount("", dst, "", lockedFlags(dst)|unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
	}
	if err != nil {
		return fmt.Errorf("remount %s read-only: %w", dst, err)
	}
	return nil
}

// remountBind is the remount of a bind with flags (mount(2)'s way, for a
// kernel without mount_setattr). The flags the mount already has
// (nosuid, nodev, ...) must be repeated, or a user namespace refuses
// the remount: it may not clear flags locked by a more privileged owner.
func remountBind(ex *explain.Printer, dst string, flags uintptr) error {
	ex.Argv(mountArgv("", dst, "", flags, "remount,bind")...)
	if err := unix.Mount("", dst, "", lockedFlags(dst)|flags|unix.MS_REMOUNT|unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("remount %s: %w", dst, err)
	}
	return nil
}

// lockedFlags returns the per-mount flags a path's mount has now.
func lockedFlags(p string) uintptr {
	var st unix.Statfs_t
	if unix.Statfs(p, &st) != nil {
		return 0
	}
	var flags uintptr
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	return flags
}

// makeWorkdir creates the working directory inside the root when it is
// missing, as Docker does for an image's WorkingDir.
func makeWorkdir(root, workdir string, ex *explain.Printer) error {
	if workdir == "" || workdir == "/" {
		return nil
	}
	if !filepath.IsAbs(workdir) {
		return fmt.Errorf("workdir %s: must be an absolute path", workdir)
	}
	p, err := securejoin.SecureJoin(root, workdir)
	if err != nil {
		return fmt.Errorf("resolve workdir %s in %s: %w", workdir, root, err)
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	ex.Argv("mkdir", "-p", p)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("create workdir %s: %w", workdir, err)
	}
	return nil
}

// mountFS mounts a kernel filesystem at a path inside the root, creating
// the mount point when the rootfs lacks it. The path must be an ordinary
// directory, reached through no symlink (ordinaryDir).
func mountFS(root, target, source, fstype string, flags uintptr, data string, ex *explain.Printer) error {
	dst, missing, err := ordinaryDir(root, target, fstype)
	if err != nil {
		return err
	}
	switch {
	case missing == 1: // its parent was just seen to be a directory
		if err := os.Mkdir(dst, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create mount point %s: %w", dst, unwrapPathError(err))
		}
	case missing > 1:
		if err := makeMountPoint(dst, true); err != nil {
			return err
		}
	}
	return mount(ex, source, dst, fstype, flags, data)
}

// ordinaryDir returns root/target after checking, component by
// component with lstat(2), that each part of it the rootfs already has
// is a directory and not a symlink, and how many of its last components
// the rootfs lacks. The image chooses its own /proc,
// /sys and /dev: as a symlink, mount(2) would follow it, and an image
// with /proc -> /etc would get proc mounted on its /etc (resolved in the
// root) or, followed from outside the root, on a host directory. runc
// refuses the same: "filesystem "proc" must be mounted on ordinary
// directory". The root is not running anything yet, so nothing can swap
// a component between this check and the mount.
func ordinaryDir(root, target, fstype string) (string, int, error) {
	p := root
	// Cleaned as in the container ("/../x" is "/x"): joined as it was,
	// its ".." would climb out of root on the host.
	clean := filepath.Join(root, filepath.Clean("/"+target))
	parts := strings.Split(strings.Trim(filepath.Clean("/"+target), "/"), "/")
	for i, c := range parts {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			return clean, len(parts) - i, nil // made as directories
		}
		if err != nil {
			return "", 0, fmt.Errorf("mount %s on %s: %w", fstype, target, unwrapPathError(err))
		}
		if fi.IsDir() {
			continue
		}
		what := "not a directory"
		if fi.Mode()&os.ModeSymlink != 0 {
			link, _ := os.Readlink(p)
			what = "a symlink to " + link
		}
		return "", 0, fmt.Errorf("mount %s on %s: filesystem %q must be mounted on ordinary directory (the image's %s is %s)",
			fstype, target, fstype, strings.TrimPrefix(p, root), what)
	}
	return clean, 0, nil
}

// makeMountPoint creates a directory (or, for a file bind mount, an empty
// file) to mount on.
func makeMountPoint(p string, dir bool) error {
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if dir {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", p, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create mount point %s: %w", p, err)
	}
	return f.Close()
}

// mount is mount(2), explained first as the mount(8) command line.
func mount(ex *explain.Printer, source, target, fstype string, flags uintptr, data string) error {
	ex.Argv(mountArgv(source, target, fstype, flags, data)...)
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		what := fstype
		if flags&unix.MS_BIND != 0 {
			what = "bind " + source
		}
		return fmt.Errorf("mount %s on %s: %w", what, target, err)
	}
	return nil
}

// mountArgv renders a mount(2) call as a mount(8) command.
func mountArgv(source, target, fstype string, flags uintptr, data string) []string {
	var opts []string
	for _, f := range []struct {
		flag uintptr
		name string
	}{
		{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"},
		{unix.MS_NOEXEC, "noexec"}, {unix.MS_STRICTATIME, "strictatime"},
	} {
		if flags&f.flag != 0 {
			opts = append(opts, f.name)
		}
	}
	if data != "" {
		opts = append(opts, data)
	}
	argv := []string{"mount"}
	switch {
	case flags&unix.MS_BIND != 0 && flags&unix.MS_REC != 0:
		argv = append(argv, "--rbind")
	case flags&unix.MS_BIND != 0:
		argv = append(argv, "--bind")
	default:
		argv = append(argv, "-t", fstype)
	}
	if len(opts) > 0 {
		argv = append(argv, "-o", strings.Join(opts, ","))
	}
	return append(argv, source, target)
}

// ShmBytes parses --shm-size the way Docker does (units.RAMInBytes:
// "64m", "65536k", "1g"); a /dev/shm of no bytes is refused.
func ShmBytes(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	if n <= 0 {
		return 0, fmt.Errorf("size %q: out of range", s)
	}
	return n, nil
}
