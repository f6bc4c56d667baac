package health

import (
	"reflect"
	"testing"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/container"
)

// TestUpdate holds update to Docker's handleProbeResult: a pass makes
// it healthy and clears the streak, failures count only after the start
// period, Retries of them in a row make it unhealthy, and the log keeps
// the last five results.
func TestUpdate(t *testing.T) {
	started := time.Now()
	check := &container.HealthConfig{Retries: 2, StartPeriod: time.Minute}
	h := &container.Health{Status: container.Starting}
	at := func(d time.Duration, code int) *container.HealthResult {
		return &container.HealthResult{Start: started.Add(d), ExitCode: code}
	}
	for i, s := range []struct {
		r      *container.HealthResult
		status string
		streak int
	}{
		{at(time.Second, 1), string(container.Starting), 0}, // in the start period: not counted
		{at(2*time.Second, 1), string(container.Starting), 0},
		{at(2*time.Minute, 1), string(container.Starting), 1}, // after it: counted
		{at(3*time.Minute, 0), string(container.Healthy), 0},
		{at(4*time.Minute, 1), string(container.Healthy), 1},
		{at(5*time.Minute, -1), string(container.Unhealthy), 2}, // a timeout is a failure
		{at(6*time.Minute, 1), string(container.Unhealthy), 3},
		{at(7*time.Minute, 0), string(container.Healthy), 0},
	} {
		update(h, s.r, check, started)
		if string(h.Status) != s.status || h.FailingStreak != s.streak {
			t.Errorf("result %d (exit %d): %s streak %d, want %s streak %d", i, s.r.ExitCode, h.Status, h.FailingStreak, s.status, s.streak)
		}
	}
	if len(h.Log) != maxLogEntries || h.Log[0].Start != started.Add(3*time.Minute) {
		t.Errorf("log: %d results from %v, want the last %d", len(h.Log), h.Log[0].Start.Sub(started), maxLogEntries)
	}
}

// TestCheckAndArgv: Docker's defaults fill what is unset, NONE and no
// test mean no check, CMD-SHELL runs through the shell.
func TestCheckAndArgv(t *testing.T) {
	c := &container.Container{}
	if Check(c) != nil {
		t.Error("a check without a config")
	}
	c.Config.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
	if Check(c) != nil {
		t.Error("a check for NONE")
	}
	c.Config.Healthcheck = &container.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}, Retries: 5}
	if got := Check(c); got.Interval != 30*time.Second || got.Timeout != 30*time.Second || got.Retries != 5 {
		t.Errorf("defaults: %+v", got)
	}
	if got := Argv(c, c.Config.Healthcheck.Test); !reflect.DeepEqual(got, []string{"/bin/sh", "-c", "curl -f localhost"}) {
		t.Errorf("CMD-SHELL: %q", got)
	}
	if got := Argv(c, []string{"CMD", "test", "-e", "/x"}); !reflect.DeepEqual(got, []string{"test", "-e", "/x"}) {
		t.Errorf("CMD: %q", got)
	}
}

// TestLimited keeps Docker's first 4 KiB of a check's output.
func TestLimited(t *testing.T) {
	l := &limited{max: 4}
	for _, s := range []string{"ab", "cdef", "gh"} {
		if n, err := l.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("write %q: %d, %v", s, n, err)
		}
	}
	if l.String() != "abcd" {
		t.Errorf("kept %q", l.String())
	}
}

// TestInterval: the start interval applies only while the container is
// starting within its start period, as Docker 25's monitor decides.
func TestInterval(t *testing.T) {
	check := &container.HealthConfig{Interval: time.Hour, StartInterval: time.Second, StartPeriod: time.Minute}
	c := &container.Container{}
	for _, tc := range []struct {
		name    string
		started time.Duration // ago
		status  mobycontainer.HealthStatus
		want    time.Duration
	}{
		{"no verdict yet", time.Second, "", time.Second},
		{"starting", time.Second, container.Starting, time.Second},
		{"healthy already", time.Second, container.Healthy, time.Hour},
		{"start period over", 2 * time.Minute, container.Starting, time.Hour},
	} {
		c.State.StartedAt = time.Now().Add(-tc.started)
		c.State.Health = nil
		if tc.status != "" {
			c.State.Health = &container.Health{Status: tc.status}
		}
		if got := interval(check, c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
