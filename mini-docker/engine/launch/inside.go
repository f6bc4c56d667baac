package launch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/pty"
	"mini-docker/mini-docker/inside"
	"mini-docker/vethctl/network"
)

// The chain in one process.
//
// --explain prints the inside of a run as a chain of tools, each doing
// its step and exec'ing the next (unshare, cgroupctl exec, chroot
// --pivot, seccompctl run, capctl run, then the command), and that
// script, typed by hand, makes the same container. Run that way, one
// start executes six programs and pays for each: a Go program's start,
// unshare's re-exec to join namespaces before its runtime starts, a
// read-only mount of each program it execs (hops.go), and the kernel's
// global lock for cgroup.procs.
//
// By default mini-docker does the same steps through the same packages
// (jail, seccomp, caps, cgroup) in one small program, mini-docker-inside
// (package mini-docker/inside), as runc does with `runc init`:
//
//   - the parent joins the network namespace on one thread and clones
//     from it (clone3 with new UTS, IPC and PID namespaces, and with
//     CLONE_INTO_CGROUP into the group's cgroup2 directory), so the child
//     starts in the netns and the cgroup2 group;
//   - the child, holding its main thread, sets the hostname, moves that
//     thread into the v1 groups (echo 0 > tasks: no global lock), pivots
//     with Docker's mounts, installs the seccomp filter, sets the
//     capabilities and user, and execs the command from that thread,
//     which becomes the whole process;
//   - meanwhile the parent compiles the seccomp filter and passes it on a
//     pipe, which the child reads after the pivot (inside/filter.go).
//
// The program runs from a read-only mount of it, like every program of
// the chain, so that nothing in the container can write through
// /proc/PID/exe to the file on the host (runc's CVE-2019-5736). It
// reports each stage's time and "exec" on descriptor 4, which closes at
// the exec; run --tool-chain runs the printed chain instead.

// insideLaunch is a started inside process.
type insideLaunch struct {
	cmd    *exec.Cmd
	status *os.File // read end: stage lines, then "exec", EOF at the exec
	sock   *os.File // -t: where the terminal's master end arrives
	outs   outputs  // the container's stdout and stderr, copied (output.go)
	start  time.Time
}

// launchInside starts the container's first process for c.
func launchInside(c *container.Container, stdin io.Reader, stdout, stderr io.Writer) (*insideLaunch, error) {
	in := c.Runtime.Inside
	specR, err := planPipe(in)
	if err != nil {
		return nil, fmt.Errorf("pass the plan to the container's process: %w", err)
	}
	defer specR.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statusW.Close()
	l := &insideLaunch{status: statusR}
	cmd, closeProg, err := insideCmd(in.Program, specR, statusW)
	if err != nil {
		statusR.Close()
		return nil, err
	}
	defer closeProg()
	cmd.Env = c.Runtime.Env
	cmd.Stdin = stdin
	if l.outs, err = pipeOutputs(cmd, stdout, stderr); err != nil {
		statusR.Close()
		return nil, err
	}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL} // dies with us (startWatched)
	if in.Console {
		ours, theirs, err := pty.SocketPair()
		if err != nil {
			statusR.Close()
			l.outs.close()
			return nil, err
		}
		defer theirs.Close()
		l.sock = ours
		cmd.ExtraFiles = append(cmd.ExtraFiles, theirs)
		attr.Setsid = true // the child's terminal becomes its controlling one
	} else {
		attr.Setpgid = true
	}
	if in.Userns {
		// Root mapped to root, as unshare --map-root-user (setgroups
		// denied, which is why capctl then leaves the groups alone).
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	}
	closeGroup, err := intoCgroup(attr, in.CgroupV2)
	if err != nil {
		l.close()
		l.outs.close()
		return nil, err
	}
	defer closeGroup()
	cmd.SysProcAttr = attr
	filter, err := newFilterPipe(cmd, in)
	if err != nil {
		l.close()
		l.outs.close()
		return nil, err
	}
	l.cmd = cmd
	l.start = time.Now()
	err = startWatched(cmd, in.Netns)
	filter.send(in, err == nil)
	if err != nil {
		l.close()
		l.outs.close()
		return nil, fmt.Errorf("start the container's process: %w", err)
	}
	l.outs.started()
	return l, nil
}

// startUnlessBusy starts cmd, again while the kernel refuses the exec
// with ETXTBSY. A program that enters a container is watched from
// inside it (see ReadOnlyExecutable): a process there holding an
// O_PATH handle of our program, say from an earlier exec, may try to
// reopen it for writing, which fails (EROFS) but holds the file's write
// count for a moment, and an exec in that moment fails. An exec.Cmd
// starts once, so each try is a fresh one with cmd's settings.
func startUnlessBusy(cmd *exec.Cmd) error {
	// The child inherits this thread's scheduling policy: the default
	// one, whatever BatchThreads gave mini-docker's own threads.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	normalThread()
	err := cmd.Start()
	for i := 0; errors.Is(err, syscall.ETXTBSY) && i < 100; i++ {
		time.Sleep(time.Millisecond)
		*cmd = exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Stdin: cmd.Stdin, Stdout: cmd.Stdout,
			Stderr: cmd.Stderr, ExtraFiles: cmd.ExtraFiles, SysProcAttr: cmd.SysProcAttr}
		err = cmd.Start()
	}
	return err
}

// intoCgroup makes attr's clone start the child in the cgroup2
// directory dir (clone3's CLONE_INTO_CGROUP; "" = where we are). done
// closes the directory once the child has started.
func intoCgroup(attr *syscall.SysProcAttr, dir string) (done func(), err error) {
	if dir == "" {
		return func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	attr.UseCgroupFD, attr.CgroupFD = true, fd
	return func() { unix.Close(fd) }, nil
}

// started is l as a Started: its command, console socket, and the wait
// for its exec.
func (l *insideLaunch) started() *Started {
	return &Started{Cmd: l.cmd, Sock: l.sock, Drain: l.outs.drain, Watch: func(timings io.Writer) (int, bool) {
		if l.wait(timings) {
			return l.cmd.Process.Pid, true
		}
		return 0, false
	}}
}

// insideCmd is the command that starts program (mini-docker-inside)
// from a read-only mount of it, with the plan's pipe and the status pipe
// as its descriptors 3 and 4. closeProg closes our descriptor of the
// program once the child has started.
func insideCmd(program string, plan, status *os.File) (cmd *exec.Cmd, closeProg func() error, err error) {
	prog, err := ReadOnlyExecutable(program)
	if err != nil {
		return nil, nil, err
	}
	// Exec'd by the child through its own descriptor table, which holds
	// this (close-on-exec) descriptor until the exec.
	cmd = exec.Command(fmt.Sprintf("/proc/self/fd/%d", prog.Fd()))
	cmd.Args[0] = "mini-docker-inside"
	cmd.ExtraFiles = []*os.File{plan, status}
	cmd.WaitDelay = pty.OutputGrace // Wait ends then, whoever holds the output
	return cmd, prog.Close, nil
}

// planPipe returns the read end of a pipe that holds in, as JSON: a few
// KiB, which fit the pipe, so it is written at once and the child reads
// it to EOF.
func planPipe(in *container.Inside) (*os.File, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, err = w.Write(b)
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// filterPipe carries a run's seccomp filter to mini-docker-inside: the
// read end is the child's inside.FilterFd.
type filterPipe struct{ r, w *os.File }

// newFilterPipe adds the filter's pipe to cmd's descriptors (nil when
// unconfined: no filter to send).
func newFilterPipe(cmd *exec.Cmd, in *container.Inside) (*filterPipe, error) {
	if in.Seccomp == "unconfined" {
		return nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	for len(cmd.ExtraFiles) < inside.FilterFd-3 {
		cmd.ExtraFiles = append(cmd.ExtraFiles, nil) // no -t: no console socket
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	return &filterPipe{r, w}, nil
}

// send compiles in's filter and writes it for the child, once it has
// started: the child's runtime starts, it joins the cgroup and pivots
// meanwhile, and reads the filter after the pivot (inside/filter.go).
// The program fits the pipe (at most 4,096 instructions of 8 bytes), so
// the write does not wait for the child. A child that failed first
// leaves EPIPE, which nobody needs: its own error is the one reported.
func (p *filterPipe) send(in *container.Inside, started bool) {
	if p == nil {
		return
	}
	p.r.Close()
	if started && in.Seccomp != "unconfined" {
		inside.SendFilter(p.w, in)
	}
	p.w.Close()
}

// ReadOnlyExecutable opens path through a read-only bind mount of it
// that is attached nowhere (open_tree(2) with OPEN_TREE_CLONE, then
// mount_setattr(2)): the process exec'd from it cannot be written
// through /proc/PID/exe (EROFS), which is what CVE-2019-5736 did to runc,
// and the mount leaves nothing in any mount table; it goes away with the
// last user. This is runc's own answer since 1.2, cheaper than a sealed
// copy of the program per start (about 2 ms for 3 MB here). Kernels
// without mount_setattr (before 5.12) get the sealed copy.
func ReadOnlyExecutable(path string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV})
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		unix.Close(fd)
	}
	f, cerr := sealedCopy(path)
	if cerr != nil {
		return nil, fmt.Errorf("open %s read-only: %v; copy it: %w", path, err, cerr)
	}
	return f, nil
}

func (l *insideLaunch) close() {
	l.status.Close()
	if l.sock != nil {
		l.sock.Close()
	}
}

// startWatched starts a container's first process, cmd (which asks for
// Pdeathsig), from a thread of its own that lives until the process ends,
// having first joined the network namespace at path (if any), so the
// child is born in it (a process inherits the namespaces of the thread
// that clones it).
//
// The container dies with its monitor, as containerd kills a container
// whose shim died: nobody else could record its end, so the state says
// exit 137, and that is true (Refresh). PR_SET_PDEATHSIG fires when the
// *thread* that forked the child ends, not the process: so this thread
// stays locked, blocked on the child's pidfd, until the child has ended
// (network.DoAt then gives it back to Go only once it is back in the
// process's network namespace).
func startWatched(cmd *exec.Cmd, path string) error {
	done := make(chan error, 1)
	go func() {
		err := network.DoAt(path, func() error {
			if err := startUnlessBusy(cmd); err != nil {
				return err
			}
			pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
			done <- nil
			if err != nil {
				select {} // cannot tell when it ends: keep the thread
			}
			// A pidfd polls readable once the process has ended (reaped or not).
			for {
				_, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, -1)
				if err != unix.EINTR {
					break
				}
			}
			unix.Close(pidfd)
			return nil
		})
		if err != nil {
			done <- err // only before the start: after it, fn answers nil
		}
	}()
	return <-done
}

// wait reads the inside process's status until its exec (or its end),
// printing the stages for --timings. It reports whether the command was
// exec'd.
func (l *insideLaunch) wait(timings io.Writer) bool {
	defer l.status.Close()
	sc := bufio.NewScanner(l.status)
	started := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "exec":
			started = true
		case len(f) == 1 && f[0] == "failed":
			started = false
		case len(f) >= 2 && timings != nil:
			us, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			fmt.Fprintf(timings, "%-12s %8.3f ms\n", strings.Join(f[:len(f)-1], " "), float64(us)/1000)
		}
	}
	if started {
		Stage(timings, "chain total", l.start)
	}
	return started
}
