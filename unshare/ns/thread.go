package ns

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrUserNamespace is EnterThread's answer for a process in another user
// namespace: setns(2) into one is refused to a multi-threaded process,
// which a Go program always is; unshare join's C constructor does it.
var ErrUserNamespace = errors.New("the process is in another user namespace: joining it needs a single-threaded process")

// EnterThread joins, on the calling thread only, every namespace of
// process pid, its root and its working directory: nsenter --target PID
// --all --root --wd for one thread of a multi-threaded program, which
// then starts a process from that thread (a child is born in the
// namespaces of the thread that clones it; the PID namespace setns(2)
// sets is the thread's children's, not its own).
//
// setns(2) into a mount namespace is refused (EINVAL) to a thread whose
// filesystem information (root, working directory, umask) is shared,
// and the Go runtime makes every thread with CLONE_FS: unshare(CLONE_FS)
// first gives this thread its own. The caller has locked the thread
// (runtime.LockOSThread) and never unlocks it: nothing else runs there.
func EnterThread(pid int) error {
	proc := fmt.Sprintf("/proc/%d", pid)
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	// The root and working directory are opened before the mount
	// namespace changes what paths mean.
	dirs := make([]int, 2)
	for i, d := range []string{"root", "cwd"} {
		fd, err := unix.Open(proc+"/"+d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s of process %d: %w", d, pid, err)
		}
		fds, dirs[i] = append(fds, fd), fd
	}
	type join struct {
		fd int
		t  Type
	}
	var joins []join
	for _, t := range Types {
		fd, same, err := openNamespace(Join{t, proc + "/ns/" + t.Name}, unix.O_CLOEXEC)
		if errors.Is(err, os.ErrNotExist) {
			continue // a kind this kernel does not have
		}
		if err != nil {
			return err
		}
		fds = append(fds, fd)
		if same {
			continue
		}
		if t.Flag == unix.CLONE_NEWUSER {
			return ErrUserNamespace
		}
		joins = append(joins, join{fd, t})
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare this thread's filesystem information: %w", err)
	}
	// In Types' order: the mount namespace late, as nsenter does.
	for _, j := range joins {
		if err := unix.Setns(j.fd, int(j.t.Flag)); err != nil {
			return fmt.Errorf("setns into the %s namespace of process %d: %w", j.t.Name, pid, err)
		}
	}
	// nsenter --root --wd: the process's own root (a chroot inside its
	// mount namespace stays one), then its working directory.
	if err := unix.Fchdir(dirs[0]); err != nil {
		return fmt.Errorf("enter the root of process %d: %w", pid, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("enter the root of process %d: %w", pid, err)
	}
	if err := unix.Fchdir(dirs[1]); err != nil {
		return fmt.Errorf("enter the working directory of process %d: %w", pid, err)
	}
	return nil
}
