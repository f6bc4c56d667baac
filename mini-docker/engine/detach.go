package engine

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/logs"
)

// A detached container (-d) is watched by its monitor (package
// engine/monitor), mini-docker's own binary in a hidden mode started in
// a session of its own; startMonitor starts it and waits for its first
// word on a pipe: "ok" once the container runs its command, or "exit N"
// when the chain failed first.

// MonitorArg is the hidden first argument that runs mini-docker as a monitor.
const MonitorArg = "__monitor"

// AttachedEnv, set to 1 in the monitor's environment, says that the
// client that started the container (start -a) waits on descriptor
// AttachedFd, a unix socket, for its streams (package attach).
const (
	AttachedEnv = "MINI_DOCKER_ATTACHED"
	AttachedFd  = 4
)

// startMonitor starts the monitor for c and waits until the container
// runs its command (or fails to). client, if not nil, is the monitor's
// end of a socket whose other end a client reads (start -a).
func (e *Engine) startMonitor(c *container.Container, client *os.File) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(e.self(), MonitorArg, e.Root, c.ID)
	// One P: the monitor mostly waits, and each P the runtime sets up
	// (its allocation cache, a GC worker, the threads that run them)
	// stays resident in every detached container's monitor.
	cmd.Env = []string{"GOMAXPROCS=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.ExtraFiles = []*os.File{w}
	if client != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, client) // fd 4: AttachedFd
		cmd.Env = append(cmd.Env, AttachedEnv+"=1")     // GOMAXPROCS=1 kept
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		e.FinishFailed(c)
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	// The monitor is on its own now; reaped when it ends, so that a
	// long-lived caller (mini-docker serve) keeps no zombies.
	go cmd.Wait()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
		return nil
	case strings.HasPrefix(line, "exit "):
		code, _ := strconv.Atoi(strings.TrimPrefix(line, "exit "))
		// The chain failed before the command ran: show its message.
		e.Stderr.Write(logs.Text(c.LogPath))
		return ChainExit(code)
	}
	return fmt.Errorf("the monitor (pid %d) of container %s died before the container started: %s", pid, container.ShortID(c.ID), line)
}

// ChainExit is the exit code of a chain that failed, its message
// already printed.
type ChainExit int

func (c ChainExit) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// ExitCode returns the code.
func (c ChainExit) ExitCode() int { return int(c) }
