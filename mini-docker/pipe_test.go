package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunIntoClosedPipe: `mini-docker run --rm ... | head` must not end
// mini-docker at its first write to the closed pipe, which Go's runtime
// does by default with SIGPIPE: a foreground run is its container's
// monitor, so the container died with it and --rm was left undone (an
// Exited (137) container stayed). Instead the output meets the closed
// pipe inside the container, as in a shell pipeline (seq, PID 1 of its
// namespace, is not killed by its own SIGPIPE: it reports the write
// error and exits 1, as under Docker), and the run records the end and
// removes the container. With -t the terminal is hung up instead of
// left full. --explain's lines to a closed stderr stop nothing either.
func TestRunIntoClosedPipe(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, tc := range []struct {
		name       string
		opts, argv []string // run's options; the container's command
		stderrToo  bool
		wantCode   int
		wantStderr string
	}{
		{"output", nil, []string{"seq", "1000000"}, false, 1, "seq: write error: Broken pipe"},
		{"explain", []string{"--explain"}, []string{"true"}, true, 0, ""},
		// -t: the copy from the terminal fails, so the terminal is hung
		// up; yes's next write gets EIO (it would block on a full pty).
		{"terminal", []string{"-t"}, []string{"yes"}, false, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close() // every write to w fails with EPIPE (and SIGPIPE)
			defer w.Close()
			args := append([]string{"run", "--rm", "--network", "none", "--name", "piped-" + tc.name}, tc.opts...)
			cmd := h.command(false, append(append(args, ref), tc.argv...)...)
			var errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = w, &errOut
			if tc.stderrToo {
				cmd.Stderr = w
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			hung := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
			err = cmd.Wait()
			if !hung.Stop() {
				t.Fatalf("mini-docker still ran 2 minutes after its output was closed; stderr:\n%s", errOut.String())
			}
			var x *exec.ExitError
			code := 0
			if errors.As(err, &x) {
				if ws := x.Sys().(syscall.WaitStatus); ws.Signaled() {
					t.Fatalf("mini-docker was killed by %v at a write to the closed pipe; stderr:\n%s", ws.Signal(), errOut.String())
				}
				code = x.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(errOut.String(), tc.wantStderr) {
				t.Errorf("exit %d (want %d), stderr %q (want it to hold %q)", code, tc.wantCode, errOut.String(), tc.wantStderr)
			}
			if ps := h.must("ps", "-a", "--filter", "name=piped-"+tc.name, "-q"); ps != "" {
				t.Errorf("the --rm container is still there: %s", ps)
			}
		})
	}
	h.assertNoLeaks()
}
