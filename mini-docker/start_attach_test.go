package main

import (
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// onTerminal runs mini-docker on a terminal of its own (the test's
// network namespace is not needed: the containers here use --network none).
func (h *harness) onTerminal(args ...string) *testenv.Terminal {
	return testenv.OnTerminal(h.t, h.command(false, args...), 24, 80)
}

// TestRunDitThenAttach: docker run -dit, then docker attach from a
// terminal: the shell in the container answers, ctrl-p ctrl-q detaches
// (Docker's "read escape sequence", exit 1) and leaves it running, and a
// second attach sees the shell's end and returns its exit code.
func TestRunDitThenAttach(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-dit", "--network", "none", "--name", "box", ref, "sh")
	term := h.onTerminal("attach", "box")
	term.Type(t, "echo $((6*7))\r")
	term.WaitFor(t, "42")
	term.Type(t, "\x10\x11")
	if code, screen := term.Exit(t); code != 1 || !strings.Contains(screen, "read escape sequence") {
		t.Fatalf("detach: exit %d, screen %q; want 1 and Docker's \"read escape sequence\"", code, screen)
	}
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Status}}", "box")); got != "running" {
		t.Fatalf("after detaching the container is %s, want running", got)
	}
	term = h.onTerminal("attach", "--detach-keys", "ctrl-x,x", "box")
	term.Type(t, "tty; exit 3\r")
	term.WaitFor(t, "/dev/pts/0") // the container's own terminal, kept by its monitor
	if code, _ := term.Exit(t); code != 3 {
		t.Fatalf("attach: exit %d after the shell's exit 3", code)
	}
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "box")); got != "exited 3" {
		t.Fatalf("after exit 3: %s", got)
	}
	if _, errOut, code := h.host("attach", "box"); code != 1 || !strings.Contains(errOut, "You cannot attach to a stopped container, start it first") {
		t.Fatalf("attach to a stopped container: exit %d, %q", code, errOut)
	}
	if _, errOut, code := h.host("attach", "--detach-keys", "ctrl-xx", "box"); code != 1 || !strings.Contains(errOut, "Invalid detach keys (ctrl-xx) provided") {
		t.Fatalf("bad detach keys: exit %d, %q", code, errOut)
	}
	h.mustHost("rm", "box")
}

// TestCreateStartAttached: docker create, then start -a (stdout and
// stderr apart, the container's exit code) and start -ai with a pipe
// (the pipe's end is the container's end of input), and run -i with a
// pipe; start -ai on a terminal detaches with ctrl-p ctrl-q, exit 0.
func TestCreateStartAttached(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	id := strings.TrimSpace(h.mustHost("create", "--network", "none", "--name", "c1", ref, "sh", "-c", "echo out; echo err >&2; exit 5"))
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.Id}} {{.State.Status}}", "c1")); got != id+" created" {
		t.Fatalf("after create: %q, want %q", got, id+" created")
	}
	if out, errOut, code := h.host("start", "-a", "c1"); out != "out\n" || errOut != "err\n" || code != 5 {
		t.Fatalf("start -a: stdout %q, stderr %q, exit %d; want out, err, 5", out, errOut, code)
	}
	h.mustHost("create", "-i", "--network", "none", "--name", "c2", ref, "cat")
	cmd := h.command(false, "start", "-ai", "c2")
	cmd.Stdin = strings.NewReader("piped\n")
	if out, errOut, code := runCmd(t, cmd); out != "piped\n" || code != 0 {
		t.Fatalf("echo piped | start -ai: stdout %q, exit %d, stderr %q", out, code, errOut)
	}
	cmd = h.command(false, "run", "-i", "--rm", "--network", "none", ref, "cat")
	cmd.Stdin = strings.NewReader("hi\n")
	if out, errOut, code := runCmd(t, cmd); out != "hi\n" || code != 0 {
		t.Fatalf("echo hi | run -i cat: stdout %q, exit %d, stderr %q", out, code, errOut)
	}
	h.mustHost("create", "-it", "--network", "none", "--name", "c3", ref, "sh")
	term := h.onTerminal("start", "-ai", "c3")
	term.Type(t, "echo $((6*7))\r")
	term.WaitFor(t, "42")
	term.Type(t, "\x10\x11")
	if code, screen := term.Exit(t); code != 0 || strings.Contains(screen, "escape") {
		t.Fatalf("start -ai, detached: exit %d, screen %q; want 0 and nothing said", code, screen)
	}
	if got := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.State.Status}}", "c3")); got != "running" {
		t.Fatalf("after detaching the container is %s, want running", got)
	}
	if _, errOut, code := h.host("start", "-a", "c1", "c2"); code != 1 || !strings.Contains(errOut, "you cannot start and attach multiple containers at once") {
		t.Fatalf("start -a of two: exit %d, %q", code, errOut)
	}
	h.mustHost("rm", "-f", "c1", "c2", "c3")
}
