package inside

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/inside/input"
	"mini-docker/seccompctl/seccomp"
	"mini-docker/unshare/ns"
)

// joined is mini-docker-inside for docker exec (in.Join). mini-docker
// started it in the group's cgroup2 directory; the rest of the printed
// chain follows, in its order, on this thread, which the command
// inherits: cgroupctl exec (the v1 groups), unshare join (every
// namespace, the root and working directory of the container's first
// process), seccompctl run, capctl run, mini-docker __execin, the
// command. This process stays in the host's PID namespace, waits and
// passes signals on, as unshare join's does: setns(2) into a PID
// namespace is for the thread's children, and until its exec the child
// is this program, from a read-only mount of it, which is all the
// container can see enter (see mini-docker/engine/launch/execjoin.go).
func joined(in *input.Inside) (int, error) {
	env := os.Environ()
	// seccompctl run's profile is read and compiled here, before the
	// join: a path names the host's file, as at the container's start,
	// never one the container could write in its own root.
	prog, err := loadFilter(in)
	if err != nil {
		return 125, err
	}
	if err := cgroup.JoinThread(in.CgroupV1, nil); err != nil {
		return 125, err
	}
	if err := ns.EnterThread(in.Join); err != nil {
		return 125, err
	}
	// The command is looked for before the filter (a missing one is 127
	// either way), then the filter.
	path, err := cli.LookPath(in.Argv[0], env)
	if err != nil {
		return cli.CodeOf(err), err
	}
	if prog != nil {
		if err := seccomp.Install(prog, nil); err != nil {
			return 125, err
		}
	}
	// capctl run: the capabilities, the user, no_new_privs; then, as its
	// exec leaves a user other than root, only the ambient ones effective
	// (a directory the user may not enter fails, 126).
	if env, err = setCaps(in, env); err != nil {
		return 125, err
	}
	if err := caps.AsAfterExec(); err != nil {
		return 125, err
	}
	// mini-docker __execin DIR: the working directory, only 0, 1 and 2
	// left, -t's terminal, the command.
	if err := os.Chdir(in.Workdir); err != nil {
		return 126, fmt.Errorf("chdir to cwd (%q) failed: %w", in.Workdir, err)
	}
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	cmd := exec.Command(path, in.Argv[1:]...)
	cmd.Args[0], cmd.Env = in.Argv[0], env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if in.Console {
		tty, err := sendConsole(ConsoleFd)
		if err != nil {
			return 126, err
		}
		defer tty.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	return wait(cmd)
}

// sendConsole makes a terminal from the container's /dev/ptmx, sends its
// master end on the socket fd and returns the other end, for the
// command's session.
func sendConsole(fd int) (*os.File, error) {
	m, s, err := OpenPty()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := unix.Sendmsg(fd, []byte{0}, unix.UnixRights(int(m.Fd())), nil, 0); err != nil {
		s.Close()
		return nil, fmt.Errorf("send the terminal: %w", err)
	}
	unix.Close(fd)
	return s, nil
}

// wait starts cmd from this thread (it inherits the thread's PID
// namespace, filter, capabilities and user), passes on the signals
// unshare join's waiting parent passes, and ends with cmd's exit code
// (128+N when killed by signal N).
func wait(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGCONT)
	if err := cmd.Start(); err != nil {
		return cli.CodeOf(cli.ExecError(cmd.Path, err)), cli.ExecError(cmd.Path, err)
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	code := cli.CodeOf(err)
	return code, cli.ExitCode(code)
}
