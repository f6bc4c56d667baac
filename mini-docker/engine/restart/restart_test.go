package restart

import (
	"testing"
	"time"

	"mini-docker/mini-docker/container"
)

// TestDecide holds Decide to Docker's restart manager: the back-off
// doubles from 100 ms up to a minute, is back at 100 ms after a run of
// 10 s, on-failure counts its retries and ignores exit 0, and a manual
// stop ends every policy.
func TestDecide(t *testing.T) {
	always := container.RestartPolicy{Name: container.RestartAlways}
	onFailure2 := container.RestartPolicy{Name: container.RestartOnFailure, MaximumRetryCount: 2}
	ms := time.Millisecond
	for _, c := range []struct {
		name    string
		p       container.RestartPolicy
		count   int
		prev    time.Duration
		code    int
		stopped bool
		ran     time.Duration
		restart bool
		delay   time.Duration
	}{
		{"first", always, 0, 0, 0, false, ms, true, 100 * ms},
		{"doubles", always, 1, 100 * ms, 0, false, ms, true, 200 * ms},
		{"caps at a minute", always, 12, 40 * time.Second, 0, false, ms, true, time.Minute},
		{"stays at a minute", always, 13, time.Minute, 0, false, ms, true, time.Minute},
		{"resets after 10 s up", always, 5, 3200 * ms, 0, false, 10 * time.Second, true, 100 * ms},
		{"stopped", always, 0, 0, 0, true, ms, false, 100 * ms},
		{"unless-stopped", container.RestartPolicy{Name: container.RestartUnlessStopped}, 0, 0, 1, false, ms, true, 100 * ms},
		{"unless-stopped, stopped", container.RestartPolicy{Name: container.RestartUnlessStopped}, 0, 0, 1, true, ms, false, 100 * ms},
		{"on-failure, exit 0", onFailure2, 0, 0, 0, false, ms, false, 100 * ms},
		{"on-failure, retry 2 of 2", onFailure2, 1, 100 * ms, 1, false, ms, true, 200 * ms},
		{"on-failure, retries spent", onFailure2, 2, 200 * ms, 1, false, ms, false, 400 * ms},
		{"on-failure, no maximum", container.RestartPolicy{Name: container.RestartOnFailure}, 100, time.Minute, 3, false, ms, true, time.Minute},
		{"no", container.RestartPolicy{Name: "no"}, 0, 0, 1, false, ms, false, 100 * ms},
		{"unset", container.RestartPolicy{}, 0, 0, 1, false, ms, false, 100 * ms},
	} {
		restart, delay := Decide(c.p, c.count, c.prev, c.code, c.stopped, c.ran)
		if restart != c.restart || delay != c.delay {
			t.Errorf("%s: Decide = %v, %v; want %v, %v", c.name, restart, delay, c.restart, c.delay)
		}
	}
}
