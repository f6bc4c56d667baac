package engine

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/inside"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
)

// ExecOptions are docker exec's flags.
type ExecOptions struct {
	Argv        []string
	Env         []string
	Workdir     string
	User        string
	Interactive bool
	TTY         bool
	Detach      bool
}

// ExecInArg is the hidden mode of mini-docker that ends an exec chain:
// chdir, close every inherited descriptor above 2, exec the command.
const ExecInArg = plan.ExecInArg

// sealedCopy copies a tool's binary into a sealed memfd, for kernels
// without detached read-only mounts (see readOnlyExecutable): a sealed
// memfd cannot be written by anyone, so a process exec'd from it cannot
// be rewritten through /proc/PID/exe (runc's CVE-2019-5736).
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate(path[strings.LastIndex(path, "/")+1:], unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := copyInKernel(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s: %w", path, err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal %s: %w", path, err)
	}
	return f, nil
}

// copyInKernel copies the whole of src into the empty dst with
// sendfile(2), page cache to page cache: copy_file_range(2) (what
// io.Copy tries) refuses a copy from the host's disk to a memfd (EXDEV,
// two filesystems), and io.Copy then falls back to 32 KiB reads and
// writes through our memory, thousands of system calls for mini-docker's
// own 10 MB. If sendfile cannot start, io.Copy does it.
func copyInKernel(dst, src *os.File) error {
	st, err := src.Stat()
	if err != nil {
		return err
	}
	left := st.Size()
	for left > 0 {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(min(left, 1<<30)))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil && left == st.Size() {
			break // nothing copied yet: let io.Copy do it
		}
		if err != nil {
			return fmt.Errorf("sendfile: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("sendfile: %s shrank while being copied", src.Name())
		}
		left -= int64(n)
	}
	if left == 0 {
		return nil
	}
	_, err = io.Copy(dst, src)
	return err
}

// ExecChain returns the chain that runs a command in c, as --explain
// prints it:
//
//	cgroupctl exec --name ID -- unshare join PID -- \
//	  /proc/self/fd/3 run --profile default --caps ... -- \   (seccompctl)
//	  /proc/self/fd/4 run --docker-default ... -- \            (capctl)
//	  /proc/self/fd/5 __execin DIR -- CMD                      (mini-docker)
//
// the tools to pass as descriptors 3, 4, 5, and the chain's hops (its
// programs named by host path: cgroupctl, unshare), which Exec runs
// through descriptors too (see hops.go).
func (e *Engine) ExecChain(c *container.Container, o *ExecOptions) (chain, files []string, hops []int, err error) {
	cgroupctl, err := e.Tools.Path("cgroupctl", "exec: cgroup")
	if err != nil {
		return nil, nil, nil, err
	}
	unshare, err := e.Tools.Path("unshare", "exec: namespaces")
	if err != nil {
		return nil, nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, nil, err
	}
	fdPath := func(p string) string {
		files = append(files, p)
		return "/proc/self/fd/" + strconv.Itoa(2+len(files))
	}
	chain = hop(chain, &hops, cgroupctl)
	chain = append(chain, plan.CgroupJoin{Name: c.ID, Parent: CgroupParent}.Flags()...)
	chain = hop(chain, &hops, unshare, "join", strconv.Itoa(c.State.Pid), "--")
	if c.Runtime.Seccomp != "unconfined" && c.Runtime.Seccomp != "" {
		p, err := e.Tools.Path("seccompctl", "exec: seccomp")
		if err != nil {
			return nil, nil, nil, err
		}
		chain = append(chain, fdPath(p))
		chain = append(chain, plan.Seccomp{Profile: c.Runtime.Seccomp, Caps: c.Runtime.Caps}.Flags()...)
	}
	p, err := e.Tools.Path("capctl", "exec: capabilities")
	if err != nil {
		return nil, nil, nil, err
	}
	// The run's capabilities, with exec's own user (no default root here:
	// exec runs as the container's user).
	hc := c.HostConfig
	caps := plan.Caps{Privileged: hc.Privileged, Add: hc.CapAdd, Drop: hc.CapDrop, User: c.Config.User, NoNewPrivs: c.Runtime.NoNewPrivs}
	if o.User != "" {
		caps.User = o.User
	}
	chain = append(chain, fdPath(p))
	chain = append(chain, caps.Flags()...)
	wd := o.Workdir
	if wd == "" {
		wd = c.Config.WorkingDir
	}
	if wd == "" {
		wd = "/"
	}
	chain = append(chain, fdPath(self), ExecInArg, wd)
	if o.TTY && !o.Detach {
		chain = append(chain, "--console-socket", strconv.Itoa(3+len(files)))
	}
	chain = append(chain, "--")
	return append(chain, o.Argv...), files, hops, nil
}

// execEnv is the environment of an exec'd command: the container's,
// TERM with -t, then exec's -e values.
func execEnv(c *container.Container, o *ExecOptions) []string {
	env := append([]string{}, c.Runtime.Env...)
	if o.TTY {
		env = setEnv(env, "TERM=xterm")
	}
	for _, kv := range o.Env {
		if kv = spec.ExpandEnv(kv); kv != "" {
			env = setEnv(env, kv)
		}
	}
	return env
}

// Exec runs a command in the running container c and returns its exit code.
func (e *Engine) Exec(c *container.Container, o *ExecOptions) (int, error) {
	if !running(c) {
		return 1, fmt.Errorf("container %s is not running", c.ID)
	}
	if c.State.Paused {
		return 1, fmt.Errorf("container %s is paused, unpause the container before exec", c.ID)
	}
	chain, files, hops, err := e.ExecChain(c, o)
	if err != nil {
		return 125, err
	}
	env := execEnv(c, o)
	e.Explain.Cmd("%s", chainLine(env, chain, files))
	var sock, theirs *os.File
	if o.TTY && !o.Detach {
		if sock, theirs, err = socketPair(); err != nil {
			return 125, err
		}
		defer sock.Close()
		defer theirs.Close()
	}
	argv, fds, err := openChain(chain, files, hops, theirs)
	if err != nil {
		return 125, err
	}
	closeFds := func() {
		for _, f := range fds {
			f.Close() // the chain has its own
		}
	}
	defer closeFds()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.ExtraFiles = fds
	if o.Interactive && !o.TTY {
		cmd.Stdin = os.Stdin
	}
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	if o.Detach {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return 125, err
		}
		cmd.Process.Release()
		return 0, nil
	}
	if err := cmd.Start(); err != nil {
		return 125, err
	}
	closeFds()
	defer forwardSignals(cmd.Process)()
	var restore func()
	if sock != nil {
		if master, err := receiveConsole(sock); err == nil {
			pty := &Pty{Master: master}
			defer pty.Close()
			restore = pty.Attach(os.Stdin, e.Stdout, o.Interactive)
		}
	}
	cmd.Wait()
	if restore != nil {
		restore()
	}
	return WaitCode(cmd.ProcessState.Sys().(syscall.WaitStatus)), nil
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// PrepareExecIn is the first half of mini-docker __execin DIR -- CMD,
// the last hop of an exec chain, already inside the container: it marks
// every descriptor above 2 close-on-exec (the sealed tool copies
// included) and changes to DIR. It returns CMD, for the caller to exec.
func PrepareExecIn(args []string) ([]string, error) {
	if len(args) >= 5 && args[1] == "--console-socket" && args[3] == "--" {
		if err := inside.MakeConsole(args[2]); err != nil {
			return nil, err
		}
		args = append([]string{args[0]}, args[3:]...)
	}
	if len(args) < 3 || args[1] != "--" {
		return nil, fmt.Errorf("usage: %s DIR [--console-socket FD] -- CMD", ExecInArg)
	}
	dir, argv := args[0], args[2:]
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if os.Getpid() == 1 {
		// The container's PID 1 of a run --tool-chain: unshare started it
		// with SIGKILL as parent-death signal, so that it dies with the
		// chain's waiting parent, and that with the monitor. The signal is
		// per thread, and a Go tool of the chain that exec'd from a thread
		// other than its first lost it: set it again for the command.
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	}
	if err := os.Chdir(dir); err != nil {
		return nil, fmt.Errorf("chdir to cwd (%q) failed: %w", dir, err)
	}
	return argv, nil
}
