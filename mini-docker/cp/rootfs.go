package cp

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
	"mini-docker/internal/mountinfo"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/initlayer"
	"mini-docker/overlay/overlayfs"
)

// rootFS is a container's root filesystem as the host sees it, for cp:
// the merged overlay, and the volumes and binds that the container sees
// over it, and the /etc files bound over it (all mounted in the
// container's own mount namespace only, so reached here through their
// host paths).
type rootFS struct {
	Merged string
	Mounts []container.MountPoint
	// Pid and PidStart: a running container's first process (its start
	// time, field 22 of /proc/PID/stat), whose /proc/PID/root is the
	// container's own view of its root, mounts and all
	// (container.OpenProcRoot).
	Pid      int
	PidStart uint64
	undo     func() error
	unlock   func()
}

// Release unmounts what mountContainer mounted and lets the container start.
func (r *rootFS) Release() error {
	var err error
	if r.undo != nil {
		err = r.undo()
	}
	if r.unlock != nil {
		r.unlock()
	}
	return err
}

// Detach takes the overlay mountContainer mounted for a stopped container
// out of the mount table (umount -l) once the caller holds a descriptor
// of what it needs in it: the descriptor keeps the mount usable until it
// is closed, and the kernel frees it then, even when the process is
// killed (cp into a pipe that closes), so nothing is left mounted. The
// lock stays held until Release.
func (r *rootFS) Detach(p *explain.Printer) error {
	if r.undo == nil {
		return nil // a running container's root, or nothing mounted
	}
	p.Argv("umount", "-l", r.Merged)
	if err := unix.Unmount(r.Merged, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach %s: %w", r.Merged, err)
	}
	r.undo = nil
	return nil
}

// mountContainer gives c's root filesystem: a running container's overlay
// as it is, or, for a stopped one, its layers mounted afresh (as Docker
// mounts a stopped container's root for docker cp), with c's lock held
// until Release so that it does not start meanwhile.
func mountContainer(e *engine.Engine, c *container.Container) (*rootFS, error) {
	cur, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return nil, err
	}
	dir := e.Store.Dir(c.ID)
	// The overlay's folders, as Docker's overlay2 names them.
	upper, work, merged := filepath.Join(dir, "diff"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	r := &rootFS{Merged: merged, Mounts: append([]container.MountPoint{}, cur.Mounts...)}
	for _, f := range []struct{ src, dst string }{
		{cur.HostnamePath, "/etc/hostname"}, {cur.HostsPath, "/etc/hosts"}, {cur.ResolvConfPath, "/etc/resolv.conf"},
	} {
		if f.src != "" {
			r.Mounts = append(r.Mounts, container.MountPoint{Type: "bind", Source: f.src, Destination: f.dst})
		}
	}
	if cur.State.Running && mountinfo.IsMountPoint(merged) {
		r.Pid, r.PidStart = cur.State.Pid, cur.Runtime.PidStart
		l.Unlock()
		return r, nil
	}
	r.unlock = l.Unlock
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			r.Release()
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := initlayer.MakeListed(cur.LowerDirs(), e.Root, dir, e.Explain); err != nil {
		r.Release()
		return nil, err
	}
	r.undo, err = overlayfs.Mount(overlayfs.Options{Lower: cur.LowerDirs(), Upper: upper, Work: work, Merged: merged,
		LinkDir: filepath.Join(e.Root, "overlay", "l")}, e.Explain)
	if err != nil {
		r.Release()
		return nil, err
	}
	return r, nil
}
