package api

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ptyClient is a docker CLI on a terminal of its own, as a person types it.
type ptyClient struct {
	ptm    *os.File
	cmd    *exec.Cmd
	seen   bytes.Buffer
	output chan []byte
}

// onPty starts cmd with a new pty (rows x cols) as its controlling terminal.
func onPty(t *testing.T, cmd *exec.Cmd, rows, cols uint16) *ptyClient {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptm.Close() })
	unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0)
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	c := &ptyClient{ptm: ptm, cmd: cmd, output: make(chan []byte, 64)}
	go func() {
		defer close(c.output)
		for {
			b := make([]byte, 4096)
			n, err := ptm.Read(b)
			if n > 0 {
				c.output <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// expect waits until the terminal has shown want since the last expect.
func (c *ptyClient) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(c.seen.String(), want) {
		select {
		case b, ok := <-c.output:
			if !ok {
				t.Fatalf("the terminal closed before showing %q; it showed:\n%q", want, c.seen.String())
			}
			c.seen.Write(b)
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it showed:\n%q", want, c.seen.String())
		}
	}
	rest := c.seen.String()[strings.Index(c.seen.String(), want)+len(want):]
	c.seen.Reset()
	c.seen.WriteString(rest)
}

func (c *ptyClient) typeText(t *testing.T, s string) {
	t.Helper()
	if _, err := c.ptm.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// exit waits for the CLI's end (reading the terminal meanwhile) and
// returns its exit code.
func (c *ptyClient) exit(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	for {
		select {
		case b, ok := <-c.output:
			if ok {
				c.seen.Write(b)
			} else {
				c.output = nil
			}
		case err := <-done:
			if x, ok := err.(*exec.ExitError); ok {
				return x.ExitCode()
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0
		case <-time.After(2 * time.Minute):
			t.Fatalf("the CLI did not end; the terminal showed:\n%q", c.seen.String())
		}
	}
}

// TestDockerRunInteractive: docker run -it and docker exec -it through
// the API, typed on a terminal: the prompt appears, a typed command
// runs in the container's terminal (the client's size, sent with
// waitSize is typed before a command that reads the terminal's size:
// it waits until the client's resize has landed (bounded: 200 x 0.1 s).
const waitSize = "for i in {1..200}; do [ \"$(stty size)\" != \"0 0\" ] && break; sleep 0.1; done; "

// resize), and ctrl-d or exit ends the CLI with the shell's code.
func TestDockerRunInteractive(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			cmd := exec.Command(cli, "run", "-it", "--rm", "--network", "none", "-e", "PS1=box$ ", ref, "bash", "--norc")
			cmd.Env = dockerEnv(t, h.srv)
			c := onPty(t, cmd, 40, 123)
			c.expect(t, "box$ ")
			// The CLI sends the terminal's size (a resize) just after the
			// start, as it does to Docker: wait for it, at most 20 s.
			c.typeText(t, waitSize+"echo $((6*7)) $(tty) $(stty size)\r")
			c.expect(t, "42 /dev/pts/0 40 123")
			c.expect(t, "box$ ")
			c.typeText(t, "false\r")
			c.expect(t, "box$ ")
			c.typeText(t, "\x04") // ctrl-d: bash exits with the last command's status
			if code := c.exit(t); code != 1 {
				t.Errorf("docker run -it bash ended with %d after false and ctrl-d, want 1; the terminal showed:\n%q", code, c.seen.String())
			}

			h.mustDocker(h.srv, cli, "run", "-d", "--name", "demo", "--network", "none", ref, "sleep", "300")
			cmd = exec.Command(cli, "exec", "-it", "-e", "PS1=inside$ ", "demo", "bash", "--norc")
			cmd.Env = dockerEnv(t, h.srv)
			c = onPty(t, cmd, 30, 100)
			c.expect(t, "inside$ ")
			c.typeText(t, waitSize+"echo pid1=$(ps -o comm= -p 1) $(stty size)\r")
			c.expect(t, "pid1=sleep 30 100")
			c.typeText(t, "exit 7\r")
			if code := c.exit(t); code != 7 {
				t.Errorf("docker exec -it bash ended with %d after exit 7; the terminal showed:\n%q", code, c.seen.String())
			}
			h.mustDocker(h.srv, cli, "rm", "-f", "demo")
			h.assertNoLeaks()
		})
	}
}
