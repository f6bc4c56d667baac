package main

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/launch"
)

// isInit reports whether we run as --init's init (bind-mounted at
// /sbin/docker-init inside the container) or as the end of an exec chain.
func isInit() bool {
	return filepath.Base(os.Args[0]) == "docker-init" ||
		(len(os.Args) > 1 && os.Args[1] == engine.ExecInArg)
}

// runInit is a tiny init, what Docker's --init (tini) does: PID 1 of a
// container must reap orphaned children (the kernel reparents them to
// it) and pass signals on, since the kernel delivers to PID 1 only the
// signals it has handlers for.
func runInit(args []string) int {
	if len(os.Args) > 1 && os.Args[1] == engine.ExecInArg {
		// The parent-death signal PrepareExecIn sets belongs to this
		// thread, and execve keeps only the exec'ing thread's: a
		// goroutine that moved to another thread in between (after any
		// blocking system call) would exec without it, and the container
		// would outlive its monitor. Stay on one thread until the exec.
		runtime.LockOSThread()
		argv, err := launch.PrepareExecIn(os.Args[2:])
		if err != nil {
			return cli.Report(os.Stderr, tool, cli.WithCode(err, 126))
		}
		return cli.Report(os.Stderr, tool, cli.Exec(argv, os.Environ()))
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		os.Stderr.WriteString("docker-init: error: no command given\n")
		return 125
	}
	path, err := cli.LookPath(args[0], os.Environ())
	if err != nil {
		return cli.Report(os.Stderr, "docker-init", err)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return cli.Report(os.Stderr, "docker-init", cli.WithCode(err, 126))
	}
	child := cmd.Process.Pid
	for {
		s := <-sigs
		if s != syscall.SIGCHLD {
			syscall.Kill(-child, s.(syscall.Signal))
			continue
		}
		// Reap every exited child; when ours is among them, end with its code.
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			if pid == child {
				return launch.WaitCode(ws)
			}
		}
	}
}
