package monitor

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/attach"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/health"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/logs"
)

// The monitor of a detached container (-d): a small process in its own
// session, so it survives the mini-docker command that started it and
// its terminal. It holds the log file (the container's stdout and
// stderr), waits for the container, records the exit status and releases
// what the run made. Docker's counterpart is containerd's shim; this one
// is mini-docker's own binary in a hidden mode, doing nothing but wait().

// Run is the monitor's body: mini-docker __monitor ROOT ID.
// It returns the process exit code.
func Run(root, id string) int {
	status := os.NewFile(3, "status")
	report := func(s string) {
		if status != nil {
			io.WriteString(status, s+"\n")
			status.Close()
			status = nil
		}
	}
	e, err := engine.NewEngine(root)
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
	var wake chan os.Signal
	if !c.HostConfig.RestartPolicy.IsNone() {
		wake = restart.Wake()
	}
	// Each stream through a pipe into the json-file log (package logs),
	// rotated as --log-opt says: exec.Cmd copies them, and Wait returns
	// once both have ended.
	rot, _ := logs.ParseRotation(c.HostConfig.LogConfig.Config) // checked by create
	lf, err := logs.Open(c.LogPath, rot)
	if err != nil {
		report(err.Error())
		e.FinishFailed(c)
		return 125
	}
	stdout, stderr := lf.Stream("stdout"), lf.Stream("stderr")
	defer lf.Close()
	st, err := openStreams(e, c)
	if err != nil {
		report(err.Error())
		e.FinishFailed(c)
		return 125
	}
	var stdin io.Reader
	if st.stdin != nil {
		stdin = st.stdin
	}
	tty := c.Config.Tty
	r, err := launch.Start(c, stdin, st.output(stdout, attach.Stdout), st.output(stderr, attach.Stderr), tty)
	if st.stdin != nil {
		st.stdin.Close() // the container has its own copy
	}
	if err != nil {
		report(err.Error())
		e.FinishFailed(c)
		st.hub.End(125)
		return 125
	}
	var ttyDone chan struct{}
	if tty {
		ttyDone, _ = st.terminal(r.Sock, c, st.output(stdout, attach.Stdout)) // no terminal: the chain failed first, Watch says so
	}
	cmd := r.Cmd
	pid, started := r.Watch(e.Timings)
	if pid != 0 {
		e.MarkRunning(c, pid)
	}
	stopHealth := make(chan struct{})
	healthDone := health.Monitor(e, c.ID, pid, stopHealth) // --health-cmd, HEALTHCHECK
	if started {
		report("ok")
	}
	idleGC()
	shrink()
	cmd.Wait()
	close(stopHealth)
	<-healthDone
	if ttyDone != nil {
		<-ttyDone
	}
	stdout.Close()
	stderr.Close()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	code := launch.WaitCode(ws)
	if !started {
		if code == 125 || code == 126 || code == 127 {
			report("exit " + strconv.Itoa(code))
		} else {
			report("ok") // it ran, and was quick
		}
	}
	code, _ = e.Finish(c, ws)
	st.hub.End(code)
	if wake != nil {
		// --restart: after the back-off, a new monitor runs the container again.
		restart.After(e.Store, c.ID, wake, StartAgain(e))
	}
	return 0
}

// StartAgain is the start a restart policy asks for (package
// engine/restart): the engine's, detached, with a monitor of its own.
func StartAgain(e *engine.Engine) func(*container.Container) error {
	return func(c *container.Container) error {
		_, err := e.Start(c, engine.Attach{Detach: true, Restart: true})
		if errors.As(err, new(engine.ChainExit)) {
			return nil // it ended at once: its new monitor recorded that, and applies the policy again
		}
		return err
	}
}

// idleGC turns the collector's pacing off for the wait: left on, it
// collects every two minutes even when nothing was allocated (Go's
// periodic GC), and each collection touches again the pages of code and
// heap that shrink gave back, so an idle monitor's RSS creeps up. A
// memory limit 2 MiB above what the monitor holds now collects instead
// when it matters: a container that logs a lot makes garbage in the
// monitor (each line is encoded as JSON), and the limit bounds it.
func idleGC() {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	held := int64(s[0].Value.Uint64() - s[1].Value.Uint64())
	debug.SetMemoryLimit(held + 2<<20)
	debug.SetGCPercent(-1)
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
