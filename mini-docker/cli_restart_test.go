package main

// Run flags of issue 18, item 6, that the monitor carries out: --restart.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// badFlags are run flags refused with Docker's message msg.
type badFlags struct{ flags, msg string }

// refused checks that each of bad is refused (exit 125, Docker's
// words), then that nothing was left: no container, no kernel object.
func (h *harness) refused(ref string, bad []badFlags) {
	h.t.Helper()
	for _, c := range bad {
		args := append(append([]string{"run", "--network", "none"}, strings.Fields(c.flags)...), ref, "true")
		_, errOut, code := h.host(args...)
		if code != 125 || !strings.Contains(errOut, c.msg) {
			h.t.Errorf("%s: exit %d %s", c.flags, code, errOut)
		}
	}
	if ids := strings.Fields(h.mustHost("ps", "-aq")); len(ids) != 0 {
		h.t.Errorf("containers left: %v", ids)
	}
	h.assertNoLeaks()
}

// waitFor polls inspect's format on name until it prints want (a
// generous deadline: the machine may be loaded).
func (h *harness) waitFor(name, format, want string) {
	h.t.Helper()
	var got string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = strings.TrimSpace(h.mustHost("inspect", "-f", format, name)); got == want {
			return
		}
	}
	h.t.Fatalf("%s: inspect -f %q is %q, never %q", name, format, got, want)
}

// TestRestartPolicy: a container that exits 1 under on-failure:3 runs
// four times (the log holds four lines) and stays exited with
// RestartCount 3; under always, a container that exits 0 is seen in
// Docker's state "restarting" (ps: "Restarting (0) ..."), refused by
// rm without -f, and stop ends the loop (the monitor gone, exited, no
// more restarts); start resets the count, as Docker's does. A foreground
// run returns the first exit's code and the restarts go on behind it.
// --restart with --rm, and bad policies, are refused in Docker's words.
func TestRestartPolicy(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "flaky", "loop", "fg") })

	h.mustHost("run", "-d", "--network", "none", "--name", "flaky", "--restart", "on-failure:3", ref, "sh", "-c", "echo ran; exit 1")
	h.waitFor("flaky", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}} {{.State.Restarting}}", "exited 3 1 false")
	if n := strings.Count(h.mustHost("logs", "flaky"), "ran"); n != 4 {
		t.Errorf("on-failure:3 ran %d times, want 4", n)
	}
	if got := h.mustHost("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "flaky"); got != "on-failure:3\n" {
		t.Errorf("RestartPolicy: %q", got)
	}

	h.mustHost("run", "-d", "--network", "none", "--name", "loop", "--restart", "always", ref, "true")
	var status string
	for deadline := time.Now().Add(2 * time.Minute); !strings.HasPrefix(status, "Restarting (0) "); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ps never showed loop restarting (last: %q)", status)
		}
		status = strings.TrimSpace(h.mustHost("ps", "--filter", "name=loop", "--format", "{{.Status}}"))
	}
	if _, errOut, code := h.host("rm", "loop"); code == 0 || !strings.Contains(errOut, "stop the container before removing or force remove") {
		t.Errorf("rm of a restarting container: exit %d %s", code, errOut)
	}
	// Six restarts before the stop (the back-off doubles from 100 ms: 6.3
	// s of waits), so that a count that starts again from 0 after start
	// is told from one that goes on, however slowly inspect runs.
	restarts := func(atLeast int) int {
		var n int
		for deadline := time.Now().Add(2 * time.Minute); n < atLeast; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("loop's RestartCount is %d, never %d or more", n, atLeast)
			}
			fmt.Sscan(h.mustHost("inspect", "-f", "{{.RestartCount}}", "loop"), &n)
		}
		return n
	}
	before := restarts(6)
	h.mustHost("stop", "loop")
	// The monitor records the end, sees the stop and goes, restarting nothing.
	var mon int
	fmt.Sscan(h.mustHost("inspect", "-f", "{{.MiniDocker.MonitorPid}}", "loop"), &mon)
	for deadline := time.Now().Add(time.Minute); mon > 0 && alive(mon); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the monitor %d still runs a minute after stop", mon)
		}
	}
	after := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.State.Restarting}} {{.RestartCount}}", "loop"))
	var st, running, restarting string
	var count int
	fmt.Sscan(after, &st, &running, &restarting, &count)
	if st != "exited" || running != "false" || restarting != "false" || count < 1 {
		t.Errorf("after stop: %q, want exited false false and a count", after)
	}
	h.mustHost("start", "loop")
	// Counted from 0 again: the first count seen is below the one before
	// the stop (going on, it would be above; counting again from 0, it
	// takes another 6.3 s of back-off to get there).
	if n := restarts(1); n >= before {
		t.Errorf("after start, RestartCount %d (it was %d before the stop): not counted from 0 again", n, before)
	}
	h.mustHost("stop", "loop")
	h.mustHost("rm", "loop")

	_, _, code := h.host("run", "--network", "none", "--name", "fg", "--restart", "on-failure:2", ref, "sh", "-c", "exit 3")
	if code != 3 {
		t.Errorf("foreground run with --restart: exit %d, want 3", code)
	}
	h.waitFor("fg", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "exited 2 3")
	h.mustHost("rm", "fg", "flaky")

	h.refused(ref, []badFlags{
		{"--rm --restart always", "conflicting options: cannot specify both --restart and --rm"},
		{"--restart bogus", "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{"--restart on-failure:x", "invalid restart policy format: maximum retry count must be an integer"},
		{"--restart always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{"--restart on-failure:-1", "invalid restart policy: maximum retry count cannot be negative"},
		{"--restart :1", "invalid restart policy format: no policy provided before colon"},
	})
}

// TestHealthCheck: a check that fails makes the container unhealthy
// after --health-retries failures, an exec that makes it pass flips it
// to healthy (ps: "(healthy)", --filter health=healthy), and back; the
// log keeps the last five results; a check over its timeout fails with
// Docker's words; a long interval shows "(health: starting)"; an
// image's HEALTHCHECK is the container's, its fields under the run's
// flags; bad values are refused as Docker refuses them.
func TestHealthCheck(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "hc", "slow", "later", "fromimage") })
	run := func(args ...string) {
		h.mustHost(append([]string{"run", "-d", "--network", "none"}, args...)...)
	}
	run("--name", "hc", "--health-cmd", "test -e /tmp/ok && echo fine", "--health-interval", "100ms", "--health-retries", "2", ref, "sleep", "1000")
	run("--name", "slow", "--health-cmd", "sleep 5", "--health-timeout", "100ms", "--health-interval", "100ms", "--health-retries", "1", ref, "sleep", "1000")
	run("--name", "later", "--health-cmd", "true", "--health-interval", "1h", ref, "sleep", "1000")

	h.waitFor("hc", "{{.State.Health.Status}}", "unhealthy")
	var streak int
	fmt.Sscan(h.mustHost("inspect", "-f", "{{.State.Health.FailingStreak}}", "hc"), &streak)
	if streak < 2 {
		t.Errorf("unhealthy after %d failures, want --health-retries 2", streak)
	}
	if got := h.mustHost("ps", "--filter", "name=hc", "--format", "{{.Status}}"); !strings.HasSuffix(strings.TrimSpace(got), "(unhealthy)") {
		t.Errorf("ps status of an unhealthy container: %q", got)
	}
	h.mustHost("exec", "hc", "touch", "/tmp/ok")
	h.waitFor("hc", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "healthy 0")
	if got := h.mustHost("ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(got, "hc Up ") || !strings.HasSuffix(strings.TrimSpace(got), "(healthy)") {
		t.Errorf("ps --filter health=healthy: %q", got)
	}
	// Five results kept, all the exec's passes by now.
	h.waitFor("hc", "{{range .State.Health.Log}}{{.ExitCode}}:{{.Output}}{{end}}", strings.TrimSpace(strings.Repeat("0:fine\n", 5)))
	h.mustHost("exec", "hc", "rm", "/tmp/ok")
	h.waitFor("hc", "{{.State.Health.Status}}", "unhealthy")

	h.waitFor("slow", "{{.State.Health.Status}} {{range $i, $r := .State.Health.Log}}{{if eq $i 0}}{{$r.ExitCode}} {{$r.Output}}{{end}}{{end}}", "unhealthy -1 Health check exceeded timeout (100ms)")
	if got := h.mustHost("ps", "--filter", "name=later", "--format", "{{.Status}}"); !strings.HasSuffix(strings.TrimSpace(got), "(health: starting)") {
		t.Errorf("ps status before the first check: %q", got)
	}

	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+ref+"\nHEALTHCHECK --interval=100ms --retries=5 CMD test -e /etc/passwd\n"), 0o644)
	h.mustHost("build", "-t", "withcheck:1", ctx)
	run("--name", "fromimage", "--health-retries", "1", "withcheck:1", "sleep", "1000")
	if got := h.mustHost("inspect", "-f", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}", "fromimage"); got != `["CMD-SHELL","test -e /etc/passwd"] 100ms 1`+"\n" {
		t.Errorf("the image's HEALTHCHECK under --health-retries: %q", got)
	}
	h.waitFor("fromimage", "{{.State.Health.Status}}", "healthy")
	h.mustHost("rm", "-f", "hc", "slow", "later", "fromimage")

	h.refused(ref, []badFlags{
		{"--health-cmd true --no-healthcheck", "--no-healthcheck conflicts with --health-* options"},
		{"--health-interval 1", `invalid argument "1" for "--health-interval" flag: time: missing unit in duration "1"`},
		{"--health-interval 100us", "Interval in Healthcheck cannot be less than 1ms"},
		{"--health-timeout -1s", "--health-timeout cannot be negative"},
		{"--health-retries -1", "--health-retries cannot be negative"},
	})
}

// TestHealthCheckForeground: a container run in the foreground (no -d,
// so no monitor) is checked too, as Docker's daemon checks every running
// container: starting, then healthy once the check passes, then
// unhealthy when it fails; the run returns the container's own exit code.
func TestHealthCheckForeground(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "fg") })
	run := h.command(false, "run", "--network", "none", "--name", "fg", "--health-cmd", "test -e /tmp/ok",
		"--health-interval", "100ms", "--health-retries", "1", ref,
		"sh", "-c", "touch /tmp/ok; while [ ! -e /tmp/stop ]; do sleep 0.1; done; exit 7")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- run.Wait() }()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		// Created and its check begun: as Docker's, a container has no
		// State.Health until its start records it "starting".
		if out, _, code := h.host("inspect", "-f", "{{if .State.Health}}checked{{end}}", "fg"); code == 0 && strings.TrimSpace(out) == "checked" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the foreground run never started its container")
		}
	}
	h.waitFor("fg", "{{.State.Health.Status}}", "healthy")
	h.mustHost("exec", "fg", "rm", "/tmp/ok")
	h.waitFor("fg", "{{.State.Health.Status}}", "unhealthy")
	h.mustHost("exec", "fg", "touch", "/tmp/stop")
	select {
	case err := <-ended:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("foreground run ended with %v, want exit 7", err)
		}
	case <-time.After(2 * time.Minute):
		run.Process.Kill()
		t.Fatal("the foreground run did not end after its command did")
	}
	h.waitFor("fg", "{{.State.Status}} {{.State.ExitCode}}", "exited 7")
	h.mustHost("rm", "fg")
}

// TestLogRotation: --log-opt max-size and max-file rotate the
// container's json-file log as Docker's does (container-json.log and
// .1, no .2 with max-file=2), logs reads across both files (the newest
// lines, in order, ending with the last), and bad options are refused
// in Docker's words.
func TestLogRotation(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "chatty") })
	id := strings.TrimSpace(h.mustHost("run", "-d", "--network", "none", "--name", "chatty", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", ref,
		"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done"))
	h.waitFor("chatty", "{{.State.Status}}", "exited")
	if got := h.mustHost("inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}} {{index .HostConfig.LogConfig.Config \"max-file\"}}", "chatty"); got != "json-file 1k 2\n" {
		t.Errorf("LogConfig: %q", got)
	}
	log := filepath.Join(h.root, "containers", id, id+"-json.log")
	for suffix, want := range map[string]bool{"": true, ".1": true, ".2": false} {
		if _, err := os.Stat(log + suffix); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(log+suffix), err == nil, want)
		}
	}
	lines := strings.Split(strings.TrimSpace(h.mustHost("logs", "chatty")), "\n")
	if len(lines) < 2 || len(lines) >= 200 {
		t.Fatalf("logs: %d lines, want the newest of 200", len(lines))
	}
	first := 200 - len(lines)
	for i, l := range lines {
		if want := fmt.Sprintf("line %d", first+i); l != want {
			t.Fatalf("logs line %d: %q, want %q", i, l, want)
		}
	}
	h.mustHost("rm", "chatty")
	h.refused(ref, []badFlags{
		{"--log-opt max-size=abc", "failed to initialize logging driver: invalid size: 'abc'"},
		{"--log-opt max-file=0", "failed to initialize logging driver: max-file cannot be less than 1"},
		{"--log-opt foo=bar", "unknown log opt 'foo' for json-file log driver"},
	})
}

// TestLogsFollowAcrossRotation: logs -f of a container whose log
// rotates every few lines (max-size=1k) shows every line once, in order:
// what was written to the file it read after its last poll, before the
// file became .1, is read there (it lost about one line in six).
func TestLogsFollowAcrossRotation(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "rot") })
	h.mustHost("run", "-d", "--network", "none", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=10", ref,
		"sh", "-c", "sleep 1; i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo $i; usleep 20000; done")
	out := h.mustHost("logs", "-f", "rot")
	lines := strings.Fields(out)
	if len(lines) != 400 {
		t.Errorf("logs -f: %d lines, want 400", len(lines))
	}
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("logs -f line %d: %q, want %d (lost or repeated lines)", i, l, i+1)
		}
	}
}
