package start

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"mini-docker/mini-docker/engine/launch"
)

// stageClock passes --timings' lines on and notes when the last one was
// written, so that run can time what follows its last stage.
type stageClock struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
}

func (c *stageClock) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
	return c.w.Write(p)
}

// exit prints the "exit" row: from the end of the last stage to run's
// return (the state, events and removal after the release).
func (c *stageClock) exit() {
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if !last.IsZero() {
		launch.Stage(c.w, "exit", last)
	}
}

// startup returns how long this process has run so far: the time its
// main thread spent on a CPU or waiting for one, which the kernel counts
// in /proc/self/schedstat (nanoseconds) from the fork on. Before the
// first stage that is the Go runtime's start, the package inits and
// parsing the flags; false when the kernel does not keep the count.
func startup() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/schedstat")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(run + wait), true
}
