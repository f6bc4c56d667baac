package ns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/unshare/nsenter"
)

// Join is an existing namespace to enter: a /proc/PID/ns/TYPE file, or a
// bind mount of one (what `ip netns add` makes under /run/netns).
type Join struct {
	Type Type
	Path string
}

// JoinProcess runs argv inside every namespace of process pid, and in its
// root and working directory: nsenter --target PID --all --root --wd.
// It execs, or (after joining a PID namespace) ends with the command's
// exit code as a cli.ExitCode.
func JoinProcess(pid int, argv, env []string, ex *explain.Printer) error {
	if nsenter.Joined() {
		// Second pass: the constructor has joined; we are inside.
		return cli.Exec(argv, env)
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	if _, err := os.Stat(proc); err != nil {
		return fmt.Errorf("process %d: no such process", pid)
	}
	var joins []Join
	for _, t := range Types {
		p := fmt.Sprintf("%s/ns/%s", proc, t.Name)
		if _, err := os.Lstat(p); err == nil {
			joins = append(joins, Join{t, p})
		}
	}
	dirs := &rootDirs{pid: pid, root: proc + "/root", cwd: proc + "/cwd"}
	return joinFirst(joins, dirs, argv, ex)
}

type rootDirs struct {
	pid       int
	root, cwd string
}

// joinFirst enters existing namespaces. Go cannot do it itself (see
// package nsenter): it opens each namespace file, leaves the descriptors
// open across execve, and re-executes this binary with their numbers in
// nsenter.Env; the C constructor joins them before the Go runtime starts,
// and the second run of the program goes on from inside them.
// On the second run (nsenter.Joined) it does nothing.
func joinFirst(joins []Join, dirs *rootDirs, argv []string, ex *explain.Printer) error {
	if nsenter.Joined() {
		return nil
	}
	if !nsenter.Available {
		return cli.WithHint(errors.New("joining namespaces needs the C constructor, and this binary was built without cgo"),
			"build unshare with scripts/build (CGO_ENABLED=1)")
	}
	var spec, joined []string
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, j := range joins {
		fd, same, err := openNamespace(j, 0)
		if err != nil {
			return err
		}
		if same {
			// Already a member: setns into one's own user namespace is
			// refused, and for the others there is nothing to do.
			unix.Close(fd)
			continue
		}
		fds = append(fds, fd)
		spec = append(spec, fmt.Sprintf("%s:%d", j.Type.Name, fd))
		joined = append(joined, j.Type.Util)
		if dirs == nil {
			joined[len(joined)-1] += "=" + j.Path
		}
	}
	if dirs != nil {
		for _, d := range []struct{ name, path string }{{"root", dirs.root}, {"cwd", dirs.cwd}} {
			// No O_CLOEXEC: the descriptor must survive the execve below.
			fd, err := unix.Open(d.path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			if err != nil {
				return fmt.Errorf("open %s of process %d (%s): %w", d.name, dirs.pid, d.path, err)
			}
			fds = append(fds, fd)
			spec = append(spec, fmt.Sprintf("%s:%d", d.name, fd))
		}
	}
	if ex.Enabled() {
		line := []string{"nsenter"}
		if dirs != nil {
			line = append(line, "--target", strconv.Itoa(dirs.pid))
		}
		line = append(line, joined...)
		if dirs != nil {
			line = append(line, "--root", "--wd")
		}
		ex.Argv(append(append(line, "--"), argv...)...)
	}
	env := append(withoutEnv(os.Environ(), nsenter.Env), nsenter.Env+"="+strings.Join(spec, ","))
	err := syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("re-execute /proc/self/exe to join the namespaces: %w", err)
}

// nsGetNSType is ioctl NS_GET_NSTYPE (linux/nsfs.h): the CLONE_NEW* flag
// of the namespace a file descriptor refers to.
const nsGetNSType = 0xb703

// openNamespace opens a namespace file (with flags: O_CLOEXEC, or 0 for
// a descriptor the re-exec keeps), checks that it is a namespace of the
// expected type, and tells whether this process is already a member.
func openNamespace(j Join, flags int) (fd int, same bool, err error) {
	fd, err = unix.Open(j.Path, unix.O_RDONLY|flags, 0)
	if err != nil {
		return -1, false, fmt.Errorf("open %s namespace %s: %w", j.Type.Name, j.Path, err)
	}
	kind, err := unix.IoctlRetInt(fd, nsGetNSType)
	if err != nil || uintptr(kind) != j.Type.Flag {
		unix.Close(fd)
		return -1, false, fmt.Errorf("%s: not a %s namespace (want /proc/PID/ns/%s or a bind mount of one)",
			j.Path, j.Type.Name, j.Type.Name)
	}
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(fd, &theirs); err != nil {
		unix.Close(fd)
		return -1, false, fmt.Errorf("stat %s: %w", j.Path, err)
	}
	if err := unix.Stat("/proc/self/ns/"+j.Type.Name, &ours); err != nil {
		unix.Close(fd)
		return -1, false, fmt.Errorf("stat /proc/self/ns/%s: %w", j.Type.Name, err)
	}
	return fd, theirs.Ino == ours.Ino && theirs.Dev == ours.Dev, nil
}
