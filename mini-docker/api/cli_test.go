package api

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// TestDockerCLIWalkthrough is the seed lesson's walkthrough, typed with
// Docker's own CLI against mini-docker: pull, run, run -d, ps, inspect,
// exec, logs, stop, rm, with each CLI the machine has.
func TestDockerCLIWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.pull = h.serve(false)
	ref := testenv.PushDebian(t, h.reg) // docker pull pulls it
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			out := h.mustDocker(h.pull, cli, "pull", ref)
			if !strings.Contains(out, "Status: ") || !strings.Contains(out, ref) {
				t.Errorf("docker pull printed:\n%s", out)
			}
			if out := h.mustDocker(h.srv, cli, "images"); !strings.Contains(out, strings.Split(ref, ":bookworm")[0]) {
				t.Errorf("docker images does not list %s:\n%s", ref, out)
			}
			out = h.mustDocker(h.srv, cli, "run", "--name", "hello", ref, "echo", "hello", "world")
			if out != "hello world\n" {
				t.Errorf("docker run echo hello world printed %q", out)
			}
			id := strings.TrimSpace(h.mustDocker(h.srv, cli, "run", "-d", "--name", "demo", ref, "sleep", "300"))
			if !hex64.MatchString(id) {
				t.Fatalf("docker run -d printed %q, want a 64-hex ID", id)
			}
			if out := h.mustDocker(h.srv, cli, "ps"); !strings.Contains(out, "demo") || !strings.Contains(out, id[:12]) || !strings.Contains(out, "Up ") {
				t.Errorf("docker ps does not show demo running:\n%s", out)
			}
			pid := strings.TrimSpace(h.mustDocker(h.srv, cli, "inspect", "--format", "{{.State.Pid}}", "demo"))
			if n, err := strconv.Atoi(pid); err != nil || n <= 1 {
				t.Errorf("inspect --format {{.State.Pid}} printed %q", pid)
			} else if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) != "sleep" {
				t.Errorf("PID %s runs %q, want sleep", pid, comm)
			}
			if out := h.mustDocker(h.srv, cli, "exec", "demo", "ps"); !strings.Contains(out, "sleep") || !strings.Contains(out, "PID") {
				t.Errorf("docker exec demo ps printed:\n%s", out)
			}
			if out := h.mustDocker(h.srv, cli, "logs", "hello"); out != "hello world\n" {
				t.Errorf("docker logs hello printed %q", out)
			}
			// The same state as the mini-docker CLI's, both ways.
			if out, _ := h.md("ps"); !strings.Contains(out, "demo") {
				t.Errorf("mini-docker ps does not show the API's container:\n%s", out)
			}
			if out, code := h.md("run", "-d", "--name", "fromcli", "--network", "none", "--stop-timeout", "1", ref, "sleep", "300"); code != 0 {
				t.Fatalf("mini-docker run -d: exit %d\n%s", code, out)
			}
			if out := h.mustDocker(h.srv, cli, "ps"); !strings.Contains(out, "fromcli") {
				t.Errorf("docker ps does not show mini-docker run's container:\n%s", out)
			}
			if out := h.mustDocker(h.srv, cli, "stop", "-t", "1", "demo"); out != "demo\n" {
				t.Errorf("docker stop printed %q", out)
			}
			// Without -t, the container's own --stop-timeout (1 s; sleep
			// ignores SIGTERM as PID 1), not the default 10 s.
			start := time.Now()
			if out := h.mustDocker(h.srv, cli, "stop", "fromcli"); out != "fromcli\n" {
				t.Errorf("docker stop printed %q", out)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("docker stop fromcli took %v: the default 10 s, not its --stop-timeout 1", d)
			}
			if code := strings.TrimSpace(h.mustDocker(h.srv, cli, "inspect", "--format", "{{.State.ExitCode}}", "demo")); code != "137" {
				t.Errorf("demo's exit code after stop = %s, want 137 (sleep ignores SIGTERM as PID 1: killed)", code)
			}
			if out := h.mustDocker(h.srv, cli, "rm", "demo", "hello", "fromcli"); out != "demo\nhello\nfromcli\n" {
				t.Errorf("docker rm printed %q", out)
			}
			if out := h.mustDocker(h.srv, cli, "ps", "-a", "-q"); out != "" {
				t.Errorf("docker ps -a -q after rm: %q", out)
			}
			h.assertNoLeaks()
		})
	}
}

// TestDockerCLIExitCodes: docker run's exit codes through the API are
// Docker's: the command's own, 125 (the daemon refused), 126 (cannot
// run), 127 (not found), 137 (killed).
func TestDockerCLIExitCodes(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			for _, c := range []struct {
				args []string
				code int
			}{
				{[]string{"--rm", "--network", "none", ref, "sh", "-c", "exit 3"}, 3},
				{[]string{"--rm", "--network", "none", ref, "no-such-command"}, 127},
				{[]string{"--rm", "--network", "none", ref, "/etc"}, 126},
				{[]string{"--rm", "--network", "none", "-w", "relative", ref, "true"}, 125},
				{[]string{"--rm", "--network", "no-such-network", ref, "true"}, 125},
				{[]string{"--rm", "--network", "none", "-d", ref, "no-such-command"}, 127},
			} {
				t.Logf("docker run %s", strings.Join(c.args, " "))
				out, errOut, code := h.docker(h.srv, cli, append([]string{"run"}, c.args...)...)
				if code != c.code {
					t.Errorf("docker run %s: exit %d, want %d\n%s%s", strings.Join(c.args, " "), code, c.code, out, errOut)
				}
			}
			// An attached run killed from elsewhere: 137, as Docker's.
			run := exec.Command(cli, "run", "--name", "victim", "--network", "none", ref, "sleep", "300")
			run.Env = dockerEnv(t, h.srv)
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
				if out, _, _ := h.docker(h.srv, cli, "inspect", "--format", "{{.State.Running}}", "victim"); strings.TrimSpace(out) == "true" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("victim never ran")
				}
			}
			h.mustDocker(h.srv, cli, "kill", "victim")
			err := run.Wait()
			if x, ok := err.(*exec.ExitError); !ok || x.ExitCode() != 137 {
				t.Errorf("docker run of a killed container: %v, want exit 137", err)
			}
			if out := strings.TrimSpace(h.mustDocker(h.srv, cli, "wait", "victim")); out != "137" {
				t.Errorf("docker wait victim printed %q, want 137", out)
			}
			h.mustDocker(h.srv, cli, "rm", "victim")
			if out := h.mustDocker(h.srv, cli, "ps", "-a", "-q"); out != "" {
				t.Errorf("docker ps -a -q after the --rm runs: %q", out)
			}
			h.assertNoLeaks()
		})
	}
}
