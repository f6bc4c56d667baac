package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/container"
)

// The monitor of a detached container (-d): a small process in its own
// session, so it survives the mini-docker command that started it and
// its terminal. It holds the log file (the container's stdout and
// stderr), waits for the container, records the exit status and releases
// what the run made. Docker's counterpart is containerd's shim; this one
// is mini-docker's own binary in a hidden mode, doing nothing but wait().

// MonitorArg is the hidden first argument that runs mini-docker as a monitor.
const MonitorArg = "__monitor"

// startMonitor starts the monitor for c and waits until the container
// runs its command (or fails to).
func (e *Engine) startMonitor(c *container.Container) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(self, MonitorArg, e.Root, c.ID)
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		e.finishFailed(c)
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	cmd.Process.Release() // the monitor is on its own now
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
		return nil
	case strings.HasPrefix(line, "exit "):
		code, _ := strconv.Atoi(strings.TrimPrefix(line, "exit "))
		// The chain failed before the command ran: show its message.
		b, _ := os.ReadFile(c.LogPath)
		e.Stderr.Write(b)
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

// RunMonitor is the monitor's body: mini-docker __monitor ROOT ID.
// It returns the process exit code.
func RunMonitor(root, id string) int {
	status := os.NewFile(3, "status")
	report := func(s string) {
		if status != nil {
			io.WriteString(status, s+"\n")
			status.Close()
			status = nil
		}
	}
	e, err := NewEngine(root)
	if err != nil {
		report(err.Error())
		return 125
	}
	e.Stdout, e.Stderr = io.Discard, io.Discard
	c, err := e.Store.Load(id)
	if err != nil {
		report(err.Error())
		return 125
	}
	logf, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		report(err.Error())
		e.finishFailed(c)
		return 125
	}
	r, err := startChain(c, nil, logf, logf, false)
	logf.Close()
	if err != nil {
		report(err.Error())
		e.finishFailed(c)
		return 125
	}
	cmd := r.cmd
	pid, started := r.watch(e)
	if pid != 0 {
		e.markRunning(c, pid)
	}
	if started {
		report("ok")
	}
	shrink()
	cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	code := WaitCode(ws)
	if !started {
		if code == 125 || code == 126 || code == 127 {
			report("exit " + strconv.Itoa(code))
		} else {
			report("ok") // it ran, and was quick
		}
	}
	e.finish(c, ws)
	return 0
}

// shrink gives back the memory the monitor will not need while it
// waits, possibly for days: the garbage of its start-up, and the pages of
// its own program text and read-only data that start-up touched (they
// are mapped from the executable, so the kernel can read them back in
// from the page cache when the monitor wakes up). Writable mappings are
// left alone: dropping them would reset the program's variables.
func shrink() {
	debug.FreeOSMemory()
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != self || strings.Contains(f[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
