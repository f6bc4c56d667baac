package engine

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/pty"
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
	Timeout     time.Duration // killed after it (a health check's, package engine/health)
	ToolChain   bool          // run the printed chain of tools, one program per step
}

// ExecInArg is the hidden mode of mini-docker that ends an exec chain:
// chdir, close every inherited descriptor above 2, exec the command.
const ExecInArg = plan.ExecInArg

// ExecChain returns the chain that runs a command in c, as --explain
// prints it (plan.ExecSteps rendered as the chain of tools):
//
//	cgroupctl exec --name ID -- unshare join PID -- \
//	  /proc/self/fd/3 run --profile default --caps ... -- \   (seccompctl)
//	  /proc/self/fd/4 run --docker-default ... -- \            (capctl)
//	  /proc/self/fd/5 __execin DIR -- CMD                      (mini-docker)
//
// the tools to pass as descriptors 3, 4, 5, and the chain's hops (its
// programs named by host path: cgroupctl, unshare), which Exec runs
// through descriptors too (see launch/hops.go); and the same steps as
// mini-docker-inside's configuration, which Exec runs by default (see
// launch/execjoin.go).
func (e *Engine) ExecChain(c *container.Container, o *ExecOptions) (ch *plan.Chain, in *container.Inside, err error) {
	x := plan.ExecOf(c, o.User, o.Workdir, o.TTY && !o.Detach)
	x.CgroupV1, x.CgroupV2 = cgroup.DirsOf(CgroupParent, c.ID)
	steps := plan.ExecSteps(x)
	paths, err := toolPaths(e.Tools, e.self(), steps, "exec: ")
	if err != nil {
		return nil, nil, err
	}
	prog, err := e.Tools.Path("mini-docker-inside", "exec: namespaces")
	if err != nil {
		return nil, nil, err
	}
	return plan.RenderChain(steps, o.Argv, func(t string) string { return paths[t] }), plan.RenderInside(steps, o.Argv, prog), nil
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
	ch, in, err := e.ExecChain(c, o)
	if err != nil {
		return 125, err
	}
	env := execEnv(c, o)
	e.Explain.Cmd("%s", launch.ChainLine(env, ch.Argv, ch.Files))
	var sock, theirs *os.File
	if o.TTY && !o.Detach {
		if sock, theirs, err = pty.SocketPair(); err != nil {
			return 125, err
		}
		defer sock.Close()
		defer theirs.Close()
	}
	// The chain as its tools when asked, and for a user namespace,
	// which only unshare join's C constructor can enter.
	var cmd *exec.Cmd
	var fds []*os.File
	start := func() error { return launch.StartExec(cmd, in) }
	if o.ToolChain || c.Runtime.ToolChain || c.Runtime.Userns {
		var argv []string
		if argv, fds, err = launch.OpenChain(ch.Argv, ch.Files, ch.Hops, theirs); err == nil {
			cmd = exec.Command(argv[0], argv[1:]...)
			cmd.ExtraFiles, start = fds, cmd.Start
		}
	} else {
		cmd, fds, err = launch.ExecInside(in, theirs)
	}
	if err != nil {
		return 125, err
	}
	closeFds := func() {
		for _, f := range fds {
			f.Close() // the chain has its own
		}
	}
	defer closeFds()
	cmd.Env = env
	if o.Interactive && !o.TTY && e.Stdin != nil {
		cmd.Stdin = e.Stdin
	}
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	if o.Detach {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := start(); err != nil {
			return 125, err
		}
		cmd.Process.Release()
		return 0, nil
	}
	if o.Timeout > 0 {
		// A health check's chain is a process group of its own, so that
		// its timeout kills what the check started in the container too;
		// and what left the group (setsid) and holds the check's output
		// open is not waited for more than a second once the check ended,
		// or every later check would wait behind it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = time.Second
	}
	if err := start(); err != nil {
		return 125, err
	}
	closeFds()
	if o.Timeout > 0 {
		defer time.AfterFunc(o.Timeout, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Process.Kill() }).Stop()
	}
	return launch.WaitCode(launch.Foreground(cmd, sock, e.Stdout, o.Interactive, e.Terminal, nil, nil)), nil
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
