// Package health is docker run --health-cmd (and an image's
// HEALTHCHECK) in mini-docker's terms: while the container runs, its
// monitor runs the check every interval through the same chain as
// `mini-docker exec` (joined namespaces, cgroup, seccomp, capabilities:
// sealed like every exec), and records the verdict in State.Health as
// Docker's daemon does (daemon/health.go): "starting" until the first
// success, "healthy" after any success, "unhealthy" after Retries
// failures in a row (failures in the start period do not count), the
// last five results in Log. `ps` shows it as "(healthy)". Lesson 09
// shows it.
package health

import (
	"bytes"
	"cmp"
	"fmt"
	"time"

	mobyevents "github.com/moby/moby/api/types/events"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/events"
)

// Docker's defaults and bounds (daemon/health.go).
const (
	defaultInterval = 30 * time.Second
	// defaultStartInterval is Docker 25's: checks come this often while
	// the container is still "starting" within its start period.
	defaultStartInterval = 5 * time.Second
	defaultTimeout       = 30 * time.Second
	defaultRetries       = 3
	maxLogEntries        = 5
	maxOutputLen         = 4096
)

// Check is c's health check, its defaults filled in; nil when it has
// none (no --health-cmd and no HEALTHCHECK, or NONE).
func Check(c *container.Container) *container.HealthConfig {
	hc := c.Config.Healthcheck
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return nil
	}
	h := *hc
	h.Interval = cmp.Or(h.Interval, defaultInterval)
	h.StartInterval = cmp.Or(h.StartInterval, defaultStartInterval)
	h.Timeout = cmp.Or(h.Timeout, defaultTimeout)
	h.Retries = cmp.Or(h.Retries, defaultRetries)
	return &h
}

// Argv is the command a check runs: CMD's as given, CMD-SHELL's
// through the container's shell (/bin/sh -c), as Docker runs them.
func Argv(c *container.Container, test []string) []string {
	if len(test) < 2 {
		return nil
	}
	if test[0] == "CMD-SHELL" {
		shell := []string{"/bin/sh", "-c"}
		if len(c.Config.Shell) > 0 {
			shell = c.Config.Shell
		}
		return append(append([]string{}, shell...), test[1])
	}
	return test[1:]
}

// Monitor records container id, whose first process is pid, as
// "starting" (when it has a check) and checks it in the background until
// stop is closed. The channel it returns is closed once no check runs
// any more, so that nothing is recorded after the container's end.
func Monitor(e *engine.Engine, id string, pid int, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	c, err := e.Store.Load(id)
	var check *container.HealthConfig
	if err == nil {
		check = Check(c)
	}
	if check == nil {
		close(done)
		return done
	}
	record(e, id, pid, func(h *container.Health) {
		*h = container.Health{Status: container.Starting, Log: []*container.HealthResult{}}
	})
	go func() {
		defer close(done)
		loop(e, id, pid, check, stop)
	}()
	return done
}

// loop runs the check every interval (every start interval while the
// container is starting within its start period) until stop is closed.
func loop(e *engine.Engine, id string, pid int, check *container.HealthConfig, stop <-chan struct{}) {
	c, err := e.Store.Load(id)
	if err != nil {
		return
	}
	t := time.NewTimer(interval(check, c))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		c, err = e.Store.Load(id)
		if err != nil || !c.State.Running || c.State.Pid != pid {
			return
		}
		if c.State.Paused {
			t.Reset(interval(check, c))
			continue // a frozen container cannot answer; Docker's check waits too
		}
		r := probe(e, c, check)
		select {
		case <-stop:
			return // the container ended during the check: its result says nothing
		default:
		}
		var next time.Duration
		record(e, id, pid, func(h *container.Health) {
			update(h, r, check, c.State.StartedAt)
			c.State.Health = h
			next = interval(check, c) // after the verdict: a healthy container leaves the start interval
		})
		if next == 0 {
			next = check.Interval
		}
		t.Reset(next)
	}
}

// interval is the time to the next check, as Docker 25's monitor
// chooses it: the start interval while the container is still starting
// within its start period, else the interval.
func interval(check *container.HealthConfig, c *container.Container) time.Duration {
	if time.Since(c.State.StartedAt) < check.StartPeriod && (c.State.Health == nil || c.State.Health.Status == container.Starting) {
		return check.StartInterval
	}
	return check.Interval
}

// probe runs the check once, as mini-docker exec would, its output
// (stdout and stderr together) kept up to Docker's 4 KiB.
func probe(e *engine.Engine, c *container.Container, check *container.HealthConfig) *container.HealthResult {
	out := &limited{max: maxOutputLen}
	x := *e
	x.Stdout, x.Stderr, x.Stdin, x.Explain, x.Terminal, x.Timings = out, out, nil, nil, nil, nil
	r := &container.HealthResult{Start: time.Now()}
	code, err := x.Exec(c, &engine.ExecOptions{Argv: Argv(c, check.Test), Timeout: check.Timeout})
	r.End = time.Now()
	switch {
	case err != nil:
		r.ExitCode, r.Output = -1, err.Error()
	case r.End.Sub(r.Start) >= check.Timeout:
		r.ExitCode, r.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", check.Timeout)
	default:
		r.ExitCode, r.Output = code, out.String()
	}
	return r
}

// update is Docker's handleProbeResult: the result joins the log (the
// last five kept), and the status follows the rules in the package doc.
func update(h *container.Health, r *container.HealthResult, check *container.HealthConfig, started time.Time) {
	h.Log = append(h.Log, r)
	if len(h.Log) > maxLogEntries {
		h.Log = h.Log[len(h.Log)-maxLogEntries:]
	}
	if r.ExitCode == 0 {
		h.FailingStreak = 0
		h.Status = container.Healthy
		return
	}
	if h.Status == container.Starting && r.Start.Sub(started) < check.StartPeriod {
		return // still starting: the failure does not count
	}
	h.FailingStreak++
	if h.FailingStreak >= check.Retries {
		h.Status = container.Unhealthy
	}
}

// record changes State.Health of container id while it still runs as
// pid, and records Docker's event when the status changes.
func record(e *engine.Engine, id string, pid int, change func(*container.Health)) {
	c, l, err := e.Store.LockLoad(id)
	if err != nil {
		return
	}
	defer l.Unlock()
	if !c.State.Running || c.State.Pid != pid {
		return
	}
	if c.State.Health == nil {
		c.State.Health = &container.Health{}
	}
	was := c.State.Health.Status
	change(c.State.Health)
	if e.Store.Save(c) == nil && c.State.Health.Status != was && c.State.Health.Status != container.Starting {
		events.Container(e.Root, mobyevents.Action("health_status: "+string(c.State.Health.Status)), c, nil)
	}
}

// limited keeps the first max bytes written to it, and takes the rest
// without keeping it (the check must not block on a full pipe).
type limited struct {
	bytes.Buffer
	max int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
