package main

// Run flags of issue 18, item 6: --label, --stop-signal, --stop-timeout.

import (
	"strings"
	"testing"
	"time"
)

// TestStopSignalAndTimeout: stop sends --stop-signal to the container's
// process (here a shell that traps it and exits 7), and --stop-timeout
// is the grace period stop gives before SIGKILL when -t is not given (a
// shell ignoring the signal ends by SIGKILL: 137), for restart as for
// stop. Bad values are
// refused as docker run refuses them (125), with no container made.
func TestStopSignalAndTimeout(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-d", "--network", "none", "--name", "usr1", "--stop-signal", "USR1", ref,
		"sh", "-c", `trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.1; done`)
	h.mustHost("run", "-d", "--network", "none", "--name", "deaf", "--stop-timeout", "1", ref,
		"sh", "-c", `trap "" TERM; echo ready; while :; do sleep 0.1; done`)
	t.Cleanup(func() { h.host("rm", "-f", "usr1", "deaf") })
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.Config.StopSignal}} {{.Config.StopTimeout}}", "usr1", "deaf")); got != "USR1 <nil>\n 1" {
		t.Errorf("inspect: %q", got)
	}
	for _, name := range []string{"usr1", "deaf"} {
		// The trap is set once the shell has printed ready.
		for deadline := time.Now().Add(time.Minute); !strings.Contains(h.mustHost("logs", name), "ready"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never printed ready", name)
			}
		}
	}
	h.mustHost("stop", "usr1", "deaf")
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.ExitCode}}", "usr1", "deaf")); got != "7\n137" {
		t.Errorf("exit codes after stop: %q", got)
	}
	if !strings.Contains(h.mustHost("logs", "usr1"), "got USR1") {
		t.Error("the trap did not run")
	}
	// restart without -t waits the container's own --stop-timeout too (1 s
	// for deaf, whose PID 1 ignores SIGTERM), not the default 10 s.
	h.mustHost("start", "deaf")
	start := time.Now()
	h.mustHost("restart", "deaf")
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("restart deaf took %v: the default 10 s grace, not deaf's --stop-timeout 1", d)
	}
	for _, c := range []struct{ flag, msg string }{
		{"--stop-signal=FOO", "Invalid signal: FOO"},
		{"--stop-timeout=abc", `invalid argument "abc" for "--stop-timeout" flag`},
		{"--label==x", `invalid label '=x': empty name`},
	} {
		_, errOut, code := h.host("run", "--network", "none", c.flag, ref, "true")
		if code != 125 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%s: exit %d %s", c.flag, code, errOut)
		}
	}
	if ids := strings.Fields(h.mustHost("ps", "-aq")); len(ids) != 2 {
		t.Errorf("bad flags left containers: %v", ids)
	}
}
