package main

import (
	"bufio"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A foreground run passes the signals it gets on to its container, as
// docker run does (--sig-proxy, on by default), and returns the code the
// container ends with. SIGUSR1 is sent until the container answers it:
// mini-docker asks for the forwarded signals just after the container
// starts, and until then the Go runtime drops a SIGUSR1, where SIGTERM
// or SIGINT would end mini-docker itself. By the first answer all six
// are asked for (one call, SIGUSR1 after SIGINT, SIGTERM and SIGHUP).
func TestRunForwardsSignals(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	script := "trap 'echo usr1' USR1; trap 'exit 3' TERM; trap 'exit 5' INT; trap 'exit 6' HUP; echo ready; while :; do sleep 0.05; done"
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 3}, {syscall.SIGINT, 5}, {syscall.SIGHUP, 6}} {
		cmd := h.command(false, "run", "--rm", "--network", "none", ref, "sh", "-c", script)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 16)
		go func() {
			defer close(lines)
			for sc := bufio.NewScanner(out); sc.Scan(); {
				lines <- sc.Text()
			}
		}()
		exited := make(chan error, 1)
		answered, sent := false, false
		deadline := time.After(time.Minute)
		tick := time.NewTicker(100 * time.Millisecond)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					exited <- cmd.Wait()
					break wait
				}
				if l == "usr1" && !answered {
					answered = true
					cmd.Process.Signal(c.sig)
					sent = true
				}
			case <-tick.C:
				if !answered {
					cmd.Process.Signal(syscall.SIGUSR1)
				}
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("%v: the container did not end within a minute (SIGUSR1 answered: %v)", c.sig, answered)
			}
		}
		tick.Stop()
		err = <-exited
		code := 0
		if x, ok := err.(interface{ ExitCode() int }); ok && err != nil {
			code = x.ExitCode()
		}
		if !sent || code != c.code {
			t.Errorf("run, sent %v after the container answered SIGUSR1 (%v): exit %d (%v), want %d, the container's trap", c.sig, sent, code, err, c.code)
		}
	}
	if out, _, _ := h.host("ps", "-aq"); strings.TrimSpace(out) != "" {
		t.Errorf("containers left after their --rm runs: %q", out)
	}
	h.assertNoLeaks()
}
