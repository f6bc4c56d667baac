// Package jail confines a process to a directory: the classic chroot(2),
// and the way containers really do it, pivot_root(2) in a mount namespace
// of its own, with the kernel filesystems Docker mounts for a container.
//
// This file is lesson 01 in code, top to bottom: the pivot sequence.
// mounts.go holds the mounts Docker adds (/proc, /dev, /sys, ...),
// chroot.go the classic chroot, prepare.go the copy of a binary and its
// shared libraries into a root.
//
// Lesson 01 (lessons/01-chroot.md) teaches it.
package jail

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// Options says how to build the jail for Pivot.
type Options struct {
	Root string   // the new root filesystem (a directory on the host)
	Argv []string // the command to exec inside
	Env  []string // its environment (PATH is looked up inside the root)

	Proc     bool   // mount a proc filesystem on /proc
	Dev      bool   // a tmpfs on /dev with the minimal device nodes and links
	Devpts   bool   // a private devpts instance on /dev/pts (and /dev/ptmx)
	Shm      string // a tmpfs of this size on /dev/shm ("" = none)
	Mqueue   bool   // an mqueue filesystem on /dev/mqueue
	Sys      bool   // sysfs, read-only, on /sys
	Cgroupfs bool   // the process's own cgroup, read-only, on /sys/fs/cgroup (as runc)

	// Privileged is Docker's --privileged: /sys and the cgroup tree
	// mounted read-write, every host device node copied into the /dev
	// tmpfs, and (with Docker) no masked or read-only paths.
	Privileged bool

	// Mounts and Devices are an OCI bundle's own list (oci.go), done
	// after the mounts above (none of which such a runtime asks for).
	Mounts  []Mount
	Devices []Device

	Binds         []Bind   // host paths bind-mounted inside, after the mounts above
	Tmpfs         []Tmpfs  // tmpfs mounts inside, with the binds (usermounts.go)
	Mask          []string // paths hidden (a file under /dev/null, a directory under an empty tmpfs)
	ReadonlyPaths []string // paths made read-only
	ReadOnly      bool     // the root filesystem itself read-only
	Workdir       string   // directory to start in (created when missing, like Docker); "" = /

	// JoinedMountNamespace builds the root in the caller's mount
	// namespace instead of a new one: an OCI bundle's mount namespace
	// joined by path is the container's own, as runc uses it (its other
	// members see the pivot too).
	JoinedMountNamespace bool
}

// Bind is a bind mount of a host path (Src) onto a path inside the root (Dst).
type Bind struct {
	Src, Dst    string
	ReadOnly    bool
	Propagation string // "" (rprivate), private, shared, rshared, slave, rslave
}

// Docker sets the mounts, masked paths and read-only paths that
// `docker run` gives every container by default (moby's
// oci.DefaultSpec and daemon defaults). With o.Privileged set first it
// is `docker run --privileged`: the same mounts, but moby clears the
// masked and read-only paths (daemon/oci_linux.go), so none are added.
func (o *Options) Docker() {
	o.Proc, o.Dev, o.Devpts, o.Mqueue, o.Sys, o.Cgroupfs = true, true, true, true, true, true
	if o.Shm == "" {
		o.Shm = "64m"
	}
	if o.Privileged {
		return
	}
	o.Mask = append(o.Mask, DockerMaskedPaths...)
	o.ReadonlyPaths = append(o.ReadonlyPaths, DockerReadonlyPaths...)
}

// DockerMaskedPaths are hidden in every Docker container: they expose the
// host's hardware, kernel memory or keyrings, which a namespace does not
// virtualize.
var DockerMaskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
}

// DockerReadonlyPaths are read-only in every Docker container: writing
// them would change the host kernel, not the container.
var DockerReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// Pivot builds the jail and execs o.Argv in it. It returns only on
// failure; since all of its mounts live in a mount namespace this process
// alone owns, a failure leaves nothing mounted on the host.
func Pivot(o Options, ex *explain.Printer) error {
	root, err := Enter(o, ex)
	if err != nil {
		return err
	}
	return execInRoot(root, o.Argv, o.Env, ex)
}

// Enter builds the jail and moves the calling thread into it, as Pivot
// does, without the exec: it returns the root it entered (the host path),
// with the thread in the workdir. The caller must exec from the same
// thread (Enter locks it), since the new mount namespace is the thread's.
func Enter(o Options, ex *explain.Printer) (string, error) {
	root, err := checkRoot(o.Root)
	if err != nil {
		return "", err
	}
	// unshare(CLONE_NEWNS) moves only the calling thread to the new mount
	// namespace (a Go program has several). Every step below, and the
	// final execve, must run on this one thread.
	runtime.LockOSThread()

	if !o.JoinedMountNamespace {
		if err := newMountNamespace(ex); err != nil {
			return "", err
		}
	}
	if err := makeRootPrivate(ex); err != nil {
		return "", err
	}
	if err := bindRootOnItself(root, ex); err != nil {
		return "", err
	}
	if err := mountAll(root, o, ex); err != nil {
		return "", err
	}
	if err := makeWorkdir(root, o.Workdir, ex); err != nil {
		return "", err
	}
	if o.ReadOnly {
		if err := remountReadOnly(root, ex); err != nil {
			return "", err
		}
	}
	if err := pivotRoot(root, ex); err != nil {
		return "", err
	}
	wd := o.Workdir
	if wd == "" {
		wd = "/"
	}
	ex.Argv("cd", wd)
	if err := unix.Chdir(wd); err != nil {
		return "", fmt.Errorf("chdir to workdir %s inside %s: %w", wd, root, err)
	}
	return root, nil
}

// newMountNamespace gives this thread a copy of the mount table that it
// alone owns. It always makes a new one, even when the caller already did
// (`unshare --mount`): pivot_root changes the root of every process in
// the namespace, so it must never run in one shared with anybody else.
func newMountNamespace(ex *explain.Printer) error {
	ex.Argv("unshare", "--mount")
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare a new mount namespace: %w", err)
	}
	return nil
}

// makeRootPrivate stops mount events from travelling between the new
// namespace and the host. systemd mounts / as shared, so without this
// every mount below would also appear on the host, and pivot_root(2)
// fails with EINVAL when the new root's parent mount is shared.
func makeRootPrivate(ex *explain.Printer) error {
	ex.Argv("mount", "--make-rprivate", "/")
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / recursively private: %w", err)
	}
	return nil
}

// bindRootOnItself turns the rootfs directory into a mount point:
// pivot_root(2) requires new_root to be a mount, and not on the same
// mount as the current root.
func bindRootOnItself(root string, ex *explain.Printer) error {
	ex.Argv("mount", "--rbind", root, root)
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mount %s on itself: %w", root, err)
	}
	return nil
}

// remountReadOnly makes the root mount itself read-only (Docker's
// --read-only). The mounts on top of it (/proc, /dev, ...) keep their own
// flags: a remount changes one mount, not its children.
func remountReadOnly(root string, ex *explain.Printer) error {
	ex.Argv("mount", "-o", "remount,bind,ro", root)
	flags := lockedFlags(root) | unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY
	if err := unix.Mount("", root, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", root, err)
	}
	return nil
}

// pivotRoot makes root the root of the mount namespace and detaches the
// old one, so nothing of the host stays reachable, not even by the
// chroot escape (cd .. from a chroot stops at the namespace's root).
//
// pivot_root(".", ".") stacks the old root on top of the new one at "/";
// umount2(".", MNT_DETACH) then removes it. This form (from pivot_root(2)
// and runc) needs no directory for the old root inside the new one, so it
// works on a read-only rootfs and leaves nothing to rmdir.
func pivotRoot(root string, ex *explain.Printer) error {
	ex.Argv("cd", root)
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir to %s: %w", root, err)
	}
	ex.Argv("pivot_root", ".", ".")
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", root, err)
	}
	ex.Argv("umount", "-l", ".")
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return nil
}

// checkRoot returns root as an absolute path (the working directory
// changes on the way), or an error naming it when it is not a directory.
func checkRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("rootfs %s: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("rootfs %s: %w", root, unwrapPathError(err))
	}
	if !st.IsDir() {
		return "", fmt.Errorf("rootfs %s: not a directory", root)
	}
	return abs, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
