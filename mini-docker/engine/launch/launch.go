// Package launch starts a container's first process, from the plan the
// engine recorded: mini-docker-inside (the default, inside.go) or the
// chain of tools (run --tool-chain), each program exec'd from a
// read-only mount of itself (hops.go, CVE-2019-5736), and follows it
// until it runs the user's command. Lesson 09 (lessons/09-mini-docker.md)
// teaches it: the chain it starts is the one `run --explain` prints.
package launch

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"mini-docker/internal/procfs"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/pty"
)

// Stage prints how long one stage of a run took, for --timings (w nil:
// nothing).
func Stage(w io.Writer, name string, start time.Time) {
	if w != nil {
		fmt.Fprintf(w, "%-12s %8.3f ms\n", name, float64(time.Since(start).Microseconds())/1000)
	}
}

// Started is a started container: the process to wait for and signal,
// -t's console socket, and how to learn when the command runs.
type Started struct {
	Cmd  *exec.Cmd
	Sock *os.File
	// Drain, once Cmd is waited for, waits for the container's output
	// (output.go): until EOF, or until none comes for pty.OutputGrace.
	Drain func()
	// Watch returns the container's PID once it runs the command (0 and
	// false when the chain failed first), printing each stage's time to
	// timings (if not nil).
	Watch func(timings io.Writer) (int, bool)
}

// Start starts c's chain: in one process (inside.go), or as the
// separate tools with run --tool-chain.
func Start(c *container.Container, stdin io.Reader, stdout, stderr io.Writer, console bool) (*Started, error) {
	if c.Runtime.ToolChain || c.Runtime.Inside == nil {
		cmd, sock, outs, err := startTools(c, stdin, stdout, stderr, console)
		if err != nil {
			return nil, err
		}
		return &Started{Cmd: cmd, Sock: sock, Drain: outs.drain, Watch: func(timings io.Writer) (int, bool) {
			return watchChain(timings, cmd.Process.Pid, filepath.Base(cmd.Path), c.Runtime.Comms)
		}}, nil
	}
	l, err := launchInside(c, stdin, stdout, stderr)
	if err != nil {
		return nil, err
	}
	return l.started(), nil
}

// startTools starts the chain of tools, each exec'd through a read-only
// descriptor of it (hops.go). It returns the first tool's process; the
// container is its child.
func startTools(c *container.Container, stdin io.Reader, stdout, stderr io.Writer, console bool) (*exec.Cmd, *os.File, outputs, error) {
	var sock, theirs *os.File
	if console {
		var err error
		if sock, theirs, err = pty.SocketPair(); err != nil {
			return nil, nil, nil, err
		}
	}
	argv, fds, err := OpenChain(c.Runtime.Chain, c.Runtime.Files, c.Runtime.Hops, theirs)
	if err != nil {
		if console {
			sock.Close()
			theirs.Close()
		}
		return nil, nil, nil, err
	}
	defer func() {
		for _, f := range fds {
			f.Close() // the chain has its own copies
		}
	}()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.Runtime.Env
	cmd.Stdin = stdin
	cmd.WaitDelay = pty.OutputGrace // stdin's copy, if any, is not waited for longer
	outs, err := pipeOutputs(cmd, stdout, stderr)
	if err != nil {
		if console {
			sock.Close()
		}
		return nil, nil, nil, err
	}
	cmd.ExtraFiles = fds
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startWatched(cmd, ""); err != nil {
		if sock != nil {
			sock.Close()
		}
		outs.close()
		return nil, nil, nil, fmt.Errorf("start %s: %w", c.Runtime.Chain[0], err)
	}
	outs.started()
	return cmd, sock, outs, nil
}

// containerPid finds the container's PID on the host: `unshare --pid`
// forks, and the child (PID 1 inside) is the container. It returns 0 if
// unshare exits first (the chain failed).
func containerPid(unsharePid int) int {
	start := time.Now()
	for i := 0; ; i++ {
		// unshare re-executes itself (to join namespaces in a C
		// constructor), and while a thread execs, /proc shows the process
		// briefly as a zombie and its files may not read: only waitid says
		// for sure whether it ended (WNOWAIT: without reaping it).
		if kids := childrenOf(unsharePid); len(kids) > 0 {
			return kids[len(kids)-1]
		}
		if exited(unsharePid) {
			return 0
		}
		if i < 200 {
			time.Sleep(50 * time.Microsecond)
		} else {
			time.Sleep(time.Millisecond)
		}
		if time.Since(start) > time.Minute {
			return 0
		}
	}
}

// childrenOf lists the live children of pid, from every thread's
// children file (a Go program forks from whichever thread it runs on).
func childrenOf(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var kids []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			if _, state, ok := procState(n); ok && state != 'Z' && state != 'X' {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// exited reports whether our child pid has ended, leaving it to be reaped.
func exited(pid int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil {
		return true // not our child any more: gone
	}
	return siginfoPid(&info) != 0
}

// procState reads the command name and state letter of pid from
// /proc/PID/stat.
func procState(pid int) (comm string, state byte, ok bool) {
	st, err := procfs.ReadStat(pid)
	return st.Comm, st.State, err == nil
}

// watchChain finds the container's PID and follows it through the chain
// until it runs the user's command: each tool exec'ing the next shows as
// a new command name in /proc/PID/stat (first is the chain's first
// program's). It reports whether the command was reached (false when the
// chain died first). With --timings it prints how long each stage took.
func watchChain(timings io.Writer, unsharePid int, first string, comms map[string]string) (int, bool) {
	start := time.Now()
	pid := containerPid(unsharePid)
	if pid == 0 {
		return 0, false
	}
	Stage(timings, "clone", start)
	last := first
	t := time.Now()
	for i := 0; ; i++ {
		if time.Since(start) > 30*time.Second {
			return pid, !exited(unsharePid) // a tool is waiting on something; if alive, count it as started
		}
		comm, state, ok := procState(pid)
		if !ok || state == 'Z' || state == 'X' {
			// Dead, or in the middle of an exec by a thread other than the
			// leader (Go programs do that), which shows as a zombie for a
			// moment. unshare, our child, ends soon after its child does.
			if exited(unsharePid) {
				return pid, false
			}
			// unshare may have started a short-lived helper first: follow
			// the child that is there now.
			if kids := childrenOf(unsharePid); len(kids) > 0 && kids[len(kids)-1] != pid {
				pid = kids[len(kids)-1]
			}
			time.Sleep(50 * time.Microsecond)
			continue
		}
		if comm != last {
			if n, ok := comms[last]; ok && last != first {
				Stage(timings, n, t)
			}
			t, last = time.Now(), comm
			if _, ok := comms[comm]; !ok {
				Stage(timings, "chain total", start)
				return pid, true
			}
		}
		if i > 100 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// siginfoPid reads si_pid from a siginfo_t (x/sys/unix keeps it opaque):
// si_signo, si_errno and si_code are three int32s, then the union of
// details starts on an 8-byte boundary, and si_pid comes first in it.
func siginfoPid(info *unix.Siginfo) int32 {
	b := (*[24]byte)(unsafe.Pointer(info))
	return *(*int32)(unsafe.Pointer(&b[16]))
}

// WaitCode is a wait status as Docker reports it: the exit status, or
// 128+N when killed by signal N.
func WaitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
