package monitor

import (
	"errors"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/attach"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/health"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/pty"
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
	l, err := start(e, c)
	if err != nil {
		report(err.Error())
		return 125
	}
	defer l.log.Close()
	pid, started := l.r.Watch(e.Timings)
	if pid != 0 {
		e.MarkRunning(c, pid)
	}
	stopHealth := make(chan struct{})
	healthDone := health.Monitor(e, c.ID, pid, stopHealth) // --health-cmd, HEALTHCHECK
	if started {
		report("ok")
	}
	// The shrink waits a second for the start to settle: on a busy
	// machine the goroutines started above (output copying, attach,
	// health checks) may first run later, and would read pages back in.
	settled := time.AfterFunc(time.Second, func() { idleGC(); shrink() })
	l.r.Cmd.Wait()
	l.r.Drain()
	settled.Stop()
	close(stopHealth)
	<-healthDone
	ws := l.ended()
	if code := launch.WaitCode(ws); !started && (code == 125 || code == 126 || code == 127) {
		report("exit " + strconv.Itoa(code))
	} else {
		report("ok") // it ran (if it never said so, it was quick)
	}
	code, _ := e.Finish(c, ws)
	l.st.hub.End(code)
	if wake != nil {
		// --restart: after the back-off, a new monitor runs the container again.
		restart.After(e.Store, c.ID, wake, StartAgain(e))
	}
	return 0
}

// launched is a container started under the monitor: its chain, and
// the log and attach streams its output goes through.
type launched struct {
	r              *launch.Started
	st             *streams
	log            *logs.File
	stdout, stderr io.WriteCloser
	ttyDone        chan struct{} // with a terminal: closed when its copying ends
}

// start opens c's log and attach streams and starts its chain. Each
// stream goes through a pipe into the json-file log (package logs),
// rotated as --log-opt says: exec.Cmd copies them, and Wait returns once
// both have ended. On failure c is recorded as failed to start (125).
func start(e *engine.Engine, c *container.Container) (*launched, error) {
	rot, _ := logs.ParseRotation(c.HostConfig.LogConfig.Config) // checked by create
	lf, err := logs.Open(c.LogPath, rot)
	if err != nil {
		e.FinishFailed(c)
		return nil, err
	}
	l := &launched{log: lf, stdout: lf.Stream("stdout"), stderr: lf.Stream("stderr")}
	if l.st, err = openStreams(e, c); err != nil {
		lf.Close()
		e.FinishFailed(c)
		return nil, err
	}
	var stdin io.Reader
	if l.st.stdin != nil {
		stdin = l.st.stdin
	}
	tty := c.Config.Tty
	l.r, err = launch.Start(c, stdin, l.st.output(l.stdout, attach.Stdout), l.st.output(l.stderr, attach.Stderr), tty)
	if l.st.stdin != nil {
		l.st.stdin.Close() // the container has its own copy
	}
	if err != nil {
		lf.Close()
		e.FinishFailed(c)
		l.st.hub.End(125)
		return nil, err
	}
	if tty {
		l.ttyDone, _ = l.st.terminal(l.r.Sock, c, l.st.output(l.stdout, attach.Stdout)) // no terminal: the chain failed first, Watch says so
	}
	return l, nil
}

// ended waits for the output's copying to end once the chain has been
// waited for, and returns how it ended.
func (l *launched) ended() syscall.WaitStatus {
	if l.ttyDone != nil {
		pty.Drained(l.ttyDone)
	}
	l.stdout.Close()
	l.stderr.Close()
	return l.r.Cmd.ProcessState.Sys().(syscall.WaitStatus)
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
	// runtime.MemStats, not runtime/metrics: that package's start-up
	// work (0.1 ms) would run in every mini-docker command.
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	held := int64(m.Sys - m.HeapReleased)
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
	var ranges [][2]uintptr
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
		if err1 == nil && err2 == nil {
			ranges = append(ranges, [2]uintptr{uintptr(start), uintptr(end - start)})
		}
	}
	// Dropped last, in a loop that reads nothing else: parsing after a
	// drop would read the read-only data back in (with the large folios
	// of the page cache, up to 512 KiB at a time).
	for _, r := range ranges {
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1], unix.MADV_DONTNEED)
	}
}
