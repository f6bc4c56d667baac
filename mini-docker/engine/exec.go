package engine

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

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
// through descriptors too (see launch/hops.go).
func (e *Engine) ExecChain(c *container.Container, o *ExecOptions) (chain, files []string, hops []int, err error) {
	// The run's capabilities, with exec's own user (no default root here:
	// exec runs as the container's user).
	hc := c.HostConfig
	x := &plan.Exec{ID: c.ID, Pid: c.State.Pid, Seccomp: c.Runtime.Seccomp, KeepCaps: c.Runtime.Caps,
		Caps:    plan.Caps{Privileged: hc.Privileged, Add: hc.CapAdd, Drop: hc.CapDrop, User: c.Config.User, NoNewPrivs: c.Runtime.NoNewPrivs},
		Workdir: cmp.Or(o.Workdir, c.Config.WorkingDir, "/"), Console: o.TTY && !o.Detach}
	if o.User != "" {
		x.Caps.User = o.User
	}
	steps := plan.ExecSteps(x)
	paths, err := toolPaths(e.Tools, e.self(), steps, "exec: ")
	if err != nil {
		return nil, nil, nil, err
	}
	ch := plan.RenderChain(steps, o.Argv, func(t string) string { return paths[t] })
	return ch.Argv, ch.Files, ch.Hops, nil
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
	e.Explain.Cmd("%s", launch.ChainLine(env, chain, files))
	var sock, theirs *os.File
	if o.TTY && !o.Detach {
		if sock, theirs, err = pty.SocketPair(); err != nil {
			return 125, err
		}
		defer sock.Close()
		defer theirs.Close()
	}
	argv, fds, err := launch.OpenChain(chain, files, hops, theirs)
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
	if o.Interactive && !o.TTY && e.Stdin != nil {
		cmd.Stdin = e.Stdin
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
	if o.Timeout > 0 {
		// A health check's chain is a process group of its own, so that
		// its timeout kills what the check started in the container too.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return 125, err
	}
	closeFds()
	if o.Timeout > 0 {
		defer time.AfterFunc(o.Timeout, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Process.Kill() }).Stop()
	}
	return launch.WaitCode(launch.Foreground(cmd, sock, e.Stdout, o.Interactive, e.Terminal, nil)), nil
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
