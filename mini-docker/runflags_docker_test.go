package main

// Last round's run flags side by side with Docker's engine: what inspect
// says of each (HostConfig, the restart count, the health status), for
// the flags the probe of the compare suite cannot see.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// flagFields are the inspect fields the run flags set.
type flagFields struct {
	RestartCount int
	State        struct {
		Status   string
		ExitCode int
		Health   *struct{ Status string }
	}
	Config struct {
		Healthcheck *struct {
			Test                           []string
			Interval, Timeout, StartPeriod int64
			Retries                        int
		}
	}
	HostConfig struct {
		RestartPolicy struct {
			Name              string
			MaximumRetryCount int
		}
		LogConfig struct {
			Type   string
			Config map[string]string
		}
		Memory, MemoryReservation, ShmSize int64
		OomKillDisable                     *bool
		Ulimits                            []struct {
			Name       string
			Soft, Hard int64
		}
		Devices []struct{ PathOnHost, PathInContainer, CgroupPermissions string }
	}
}

// inspectOne reads the one object of inspect's JSON array into a T.
func inspectOne[T any](t *testing.T, out []byte) T {
	t.Helper()
	var v []T
	if err := json.Unmarshal(out, &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	return v[0]
}

// TestRunFlagsInspectLikeDocker: the same docker run flags under Docker
// and mini-docker give the same inspect fields: --restart on-failure:2
// of a command that fails (RestartPolicy, RestartCount 2, exited with
// its code), --health-cmd passing and failing (Config.Healthcheck,
// State.Health.Status healthy and unhealthy), --log-opt max-size and
// max-file, --ulimit, --shm-size, --device, --memory-reservation and
// --oom-kill-disable (HostConfig).
func TestRunFlagsInspectLikeDocker(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	ref := h.busybox()
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
	}
	prefix := "mdflags-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:10] + "-" + h.netns[len(h.netns)-6:] + "-"
	cases := []struct {
		name        string
		flags, cmd  []string
		until, want string // poll inspect -f until (both engines) prints want
	}{
		{"restart", []string{"--restart", "on-failure:2"}, []string{"sh", "-c", "exit 3"}, "{{.State.Status}} {{.RestartCount}}", "exited 2"},
		{"healthy", []string{"--health-cmd", "true", "--health-interval", "1s", "--health-retries", "2"}, []string{"sleep", "120"},
			"{{.State.Health.Status}}", "healthy"},
		{"unhealthy", []string{"--health-cmd", "exit 1", "--health-interval", "1s", "--health-timeout", "5s", "--health-retries", "1", "--health-start-period", "0s"},
			[]string{"sleep", "120"}, "{{.State.Health.Status}}", "unhealthy"},
		{"hostconfig", []string{"--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--ulimit", "nofile=1024:2048", "--shm-size", "128m",
			"--device", "/dev/null:/dev/xnull:r", "-m", "128m", "--memory-reservation", "32m", "--oom-kill-disable"}, []string{"sleep", "120"},
			"{{.State.Status}}", "running"},
	}
	t.Cleanup(func() {
		for _, c := range cases {
			exec.Command("docker", "rm", "-f", prefix+c.name).Run()
			h.host("rm", "-f", prefix+c.name)
		}
	})
	for _, c := range cases {
		args := append(append([]string{"run", "-d", "--network", "none", "--name", prefix + c.name}, c.flags...), append([]string{ref}, c.cmd...)...)
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		h.mustHost(args...)
	}
	for _, c := range cases {
		name := prefix + c.name
		dockerWait(t, name, c.until, c.want)
		h.waitFor(name, c.until, c.want)
		dout, err := exec.Command("docker", "inspect", name).Output()
		if err != nil {
			t.Fatalf("docker inspect %s: %v", name, err)
		}
		want := inspectOne[flagFields](t, dout)
		got := inspectOne[flagFields](t, []byte(h.mustHost("inspect", name)))
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Errorf("%s: inspect differs\n mini-docker %s\n docker      %s", c.name, gj, wj)
		}
	}
}

// dockerWait polls docker inspect -f format on name until it prints
// want (a generous deadline: the machine may be loaded).
func dockerWait(t *testing.T, name, format, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("docker", "inspect", "-f", format, name).Output()
		if got = strings.TrimSpace(string(out)); got == want {
			return
		}
	}
	t.Fatalf("docker %s: inspect -f %q is %q, never %q", name, format, got, want)
}

// TestUsernsHost: --userns=host is accepted as Docker accepts it (no
// user namespace: the host's whole uid map, UsernsMode "host" in
// inspect); --userns alone is mini-docker's new user namespace (root
// mapped to root only); another mode is refused (125) with Docker's
// words and leaves nothing. Docker's own uid map under --userns=host
// is the same.
func TestUsernsHost(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "uh") })
	uidMap := func(out string) string { return strings.Join(strings.Fields(out), " ") }
	if got := uidMap(h.mustHost("run", "--name", "uh", "--network", "none", "--userns=host", ref, "cat", "/proc/self/uid_map")); got != "0 0 4294967295" {
		t.Errorf("--userns=host: uid_map %q, want the host's", got)
	}
	if mode := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.HostConfig.UsernsMode}}", "uh")); mode != "host" {
		t.Errorf("UsernsMode %q, want host", mode)
	}
	if got := uidMap(h.mustHost("run", "--rm", "--network", "none", "--userns", ref, "cat", "/proc/self/uid_map")); got != "0 0 1" {
		t.Errorf("--userns: uid_map %q, want root mapped to root only", got)
	}
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull: %v\n%s", err, out)
	}
	out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--userns=host", ref, "cat", "/proc/self/uid_map").Output()
	if err != nil || uidMap(string(out)) != "0 0 4294967295" {
		t.Errorf("docker --userns=host: uid_map %q %v", out, err)
	}
	h.mustHost("rm", "uh")
	h.refused(ref, []badFlags{{"--userns=private", "invalid USER mode"}})
}

// TestExecInUserNamespace: exec joins a --userns container, whose
// network namespace the host's user namespace owns (mini-docker makes it
// before the container's user namespace) and whose others the
// container's user namespace owns. Joined in the order given, user
// first, the network namespace was refused (EPERM); util-linux's nsenter
// joins the others first and the user namespace after, and so do we.
func TestExecInUserNamespace(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "ue") })
	h.mustHost("run", "-d", "--name", "ue", "--network", "none", "--userns", ref, "sleep", "60")
	out := strings.Fields(h.mustHost("exec", "ue", "sh", "-c", "id -u; cat /proc/self/uid_map; for f in /proc/self/ns/net /proc/1/ns/net /proc/self/ns/user /proc/1/ns/user; do readlink $f; done"))
	want := []string{"0", "0", "0", "1"}
	if len(out) != 8 || strings.Join(out[:4], " ") != strings.Join(want, " ") || out[4] != out[5] || out[6] != out[7] {
		t.Fatalf("exec in a --userns container: got %q, want uid 0, uid_map 0 0 1, PID 1's network and user namespaces", out)
	}
	// setgroups is denied there (as unshare --map-root-user denies it):
	// root's own group is kept, as runc keeps it, and a user the
	// namespace does not map is refused in runc's words.
	if got := strings.TrimSpace(h.mustHost("exec", "-u", "0", "ue", "id", "-u")); got != "0" {
		t.Errorf("exec -u 0: uid %q, want 0", got)
	}
	if _, errOut, code := h.host("exec", "-u", "1000", "ue", "id"); code == 0 || !strings.Contains(errOut, "cannot set uid to unmapped user in user namespace: uid 1000 is not in /proc/self/uid_map (0 0 1)") {
		t.Errorf("exec -u 1000: exit %d, %q; want refused: uid 1000 unmapped", code, errOut)
	}
}

// TestGroupAddLikeDocker: --group-add adds groups, by number or by a
// name from the image's /etc/group, to root's or -u's; exec's processes
// get them too; an unknown name fails the run with 125. Compared with
// Docker's id(1) output on the same image.
func TestGroupAddLikeDocker(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	ref := h.busybox()
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull: %v\n%s", err, out)
	}
	docker := func(args ...string) (string, int) {
		out, err := exec.Command("docker", args...).Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
		}
		return string(out), 0
	}
	for _, flags := range [][]string{{"--group-add", "5", "--group-add", "99999"}, {"-u", "1000", "--group-add", "5"}, {"--group-add", "nosuch"}} {
		args := append(append([]string{"run", "--rm", "--network", "none"}, flags...), ref, "id")
		ours, _, code := h.host(args...)
		theirs, dcode := docker(args...)
		if ours != theirs || code != dcode {
			t.Errorf("run %s: mini-docker exit %d %q, docker exit %d %q", strings.Join(flags, " "), code, ours, dcode, theirs)
		}
	}
	t.Cleanup(func() { h.host("rm", "-f", "gadd"); exec.Command("docker", "rm", "-f", "gadd").Run() })
	run := []string{"run", "-d", "--name", "gadd", "--network", "none", "--group-add", "5", ref, "sleep", "60"}
	h.mustHost(run...)
	if _, code := docker(run...); code != 0 {
		t.Fatalf("docker %s: exit %d", strings.Join(run, " "), code)
	}
	for _, user := range []string{"", "1000"} {
		args := []string{"exec", "gadd", "id"}
		if user != "" {
			args = []string{"exec", "-u", user, "gadd", "id"}
		}
		ours := h.mustHost(args...)
		if theirs, _ := docker(args...); ours != theirs {
			t.Errorf("%s: mini-docker %q, docker %q", strings.Join(args, " "), ours, theirs)
		}
	}
}

// TestHealthStartInterval: Docker 25's --health-start-interval. With an
// interval of an hour, a passing check is seen within the start period
// only because the start interval (1s) applies there: the container
// turns healthy well before the hour. inspect shows the field; a
// negative value is refused in Docker's words and leaves nothing.
func TestHealthStartInterval(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "hsi") })
	h.mustHost("run", "-d", "--network", "none", "--name", "hsi", "--health-cmd", "true", "--health-interval", "1h",
		"--health-start-period", "10m", "--health-start-interval", "1s", ref, "sleep", "600")
	h.waitFor("hsi", "{{.State.Health.Status}}", "healthy")
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.Config.Healthcheck.StartInterval}} {{.Config.Healthcheck.Interval}}", "hsi")); got != "1s 1h0m0s" {
		t.Errorf("Healthcheck StartInterval Interval: %q", got)
	}
	h.mustHost("rm", "-f", "hsi")
	h.refused(ref, []badFlags{{"--health-cmd true --health-start-interval -1s", "--health-start-interval cannot be negative"}})
}

// TestKillUnderRestartPolicy: docker kill leaves a container with a
// restart policy stopped (Docker's kill marks it manually stopped), and
// kill of a restarting container succeeds, printing its name, and only
// ends the loop: exited, its restart count kept. Both engines, the same.
func TestKillUnderRestartPolicy(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	ref := h.busybox()
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull: %v\n%s", err, out)
	}
	prefix := "mdkill-" + h.netns[len(h.netns)-6:] + "-"
	t.Cleanup(func() {
		for _, n := range []string{"running", "looping"} {
			exec.Command("docker", "rm", "-f", prefix+n).Run()
			h.host("rm", "-f", prefix+n)
		}
	})
	type engineCmd struct {
		name string
		run  func(args ...string) (string, string, int)
	}
	engines := []engineCmd{
		{"docker", func(args ...string) (string, string, int) { return runCmd(t, exec.Command("docker", args...)) }},
		{"mini-docker", h.host},
	}
	for _, en := range engines {
		inspect := func(name string) string {
			out, _, _ := en.run("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name)
			return strings.TrimSpace(out)
		}
		running, looping := prefix+"running", prefix+"looping"
		en.run("run", "-d", "--network", "none", "--name", running, "--restart", "always", ref, "sleep", "300")
		en.run("run", "-d", "--network", "none", "--name", looping, "--restart", "always", ref, "sh", "-c", "exit 1")
		if out, errOut, code := en.run("kill", running); code != 0 || out != running+"\n" {
			t.Errorf("%s kill of a running container: exit %d %q %s", en.name, code, out, errOut)
		}
		// Caught between two runs: the back-off doubles (100 ms after the
		// first end), so the wait grows. From the sixth restart on it is
		// 3.2 s, time enough for kill to come while it lasts on a loaded
		// host (at the second, 200 ms, the loop had started the container
		// again and it had ended before kill looked: "is not running").
		var state string
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var n int
			if state = inspect(looping); strings.HasPrefix(state, "restarting ") {
				n, _ = strconv.Atoi(strings.TrimPrefix(state, "restarting "))
			}
			if n >= 6 {
				break
			}
		}
		if out, errOut, code := en.run("kill", looping); code != 0 || out != looping+"\n" {
			t.Errorf("%s kill of a restarting container (%s): exit %d %q %s", en.name, state, code, out, errOut)
		}
		// The loop may have started it once more between inspect and kill:
		// then kill found it running. Either way it stays exited.
		count, _ := strconv.Atoi(strings.TrimPrefix(state, "restarting "))
		for _, c := range []struct {
			name     string
			minCount int
		}{{running, 0}, {looping, count}} {
			var got string
			for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if got = inspect(c.name); strings.HasPrefix(got, "exited ") {
					break
				}
			}
			n, err := strconv.Atoi(strings.TrimPrefix(got, "exited "))
			if err != nil || n < c.minCount || (c.name == running && n != 0) {
				t.Errorf("%s %s after kill: %q, want exited with its restart count (at least %d)", en.name, c.name, got, c.minCount)
			}
		}
	}
}

// TestHealthTimeoutKillsChain: a health check that times out is killed
// with everything it started in the container (a shell's background
// child too), not only its first process. Checks run one after the
// other, so after three timed-out checks at most the current one's two
// sleeps exist; without the group kill each check left one behind.
func TestHealthTimeoutKillsChain(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "hto") })
	mark := strconv.Itoa(50000 + os.Getpid()%10000) // a sleep no other test runs
	h.mustHost("run", "-d", "--network", "none", "--name", "hto", "--health-cmd", "sleep "+mark+" & sleep "+mark,
		"--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "1", ref, "sleep", "600")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		n, _ := strconv.Atoi(strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Health.FailingStreak}}", "hto")))
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("three checks never timed out (streak %d)", n)
		}
	}
	var left []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		if b, _ := os.ReadFile(f); string(b) == "sleep\x00"+mark+"\x00" {
			left = append(left, f)
		}
	}
	if len(left) > 2 {
		t.Errorf("the timed-out checks left their processes: %v", left)
	}
}

// TestHealthCheckNotHeldByItsChildren: a check that ends but leaves a
// child of its own session (setsid) holding its output open is judged
// all the same, and the checks go on: the container turns unhealthy
// once its check fails. Before, the check waited for the child's end
// (days), and the status stayed healthy for good.
func TestHealthCheckNotHeldByItsChildren(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	t.Cleanup(func() { h.host("rm", "-f", "hsid") })
	mark := strconv.Itoa(60000 + os.Getpid()%10000)
	h.mustHost("run", "-d", "--network", "none", "--name", "hsid",
		"--health-cmd", "if [ -e /ok ]; then exit 0; fi; setsid sleep "+mark+" & exit 1",
		"--health-interval", "1s", "--health-timeout", "5s", "--health-retries", "1",
		ref, "sh", "-c", "touch /ok; sleep 3; rm /ok; sleep 600")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		status := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Health.Status}}", "hsid"))
		if status == "unhealthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container is still %s a minute after its check began to fail", status)
		}
	}
}
