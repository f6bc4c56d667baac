package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Terminal is a command running on a pseudo-terminal of its own, as a
// person at a terminal runs it: its controlling terminal, its stdin,
// stdout and stderr are the pty's slave; the test types on the master
// and reads what the screen shows.
type Terminal struct {
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	screen bytes.Buffer // everything shown since the last WaitFor's match
	closed bool
	change chan struct{} // closed and replaced on every read
	exited chan struct{}
	err    error
}

// OnTerminal starts cmd on a new terminal of rows x cols.
func OnTerminal(t testing.TB, cmd *exec.Cmd, rows, cols uint16) *Terminal {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term := &Terminal{master: master, cmd: cmd, change: make(chan struct{}), exited: make(chan struct{})}
	go term.read()
	go func() {
		term.err = cmd.Wait()
		close(term.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-term.exited:
		default:
			cmd.Process.Kill()
			<-term.exited
		}
	})
	return term
}

// read copies the screen until the last slave is closed (EIO).
func (term *Terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := term.master.Read(buf)
		term.mu.Lock()
		term.screen.Write(buf[:n])
		term.closed = err != nil
		close(term.change)
		term.change = make(chan struct{})
		term.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// WaitFor waits (up to two minutes) until the screen shows want, and
// returns what it showed up to and including it; the screen then holds
// only what came after.
func (term *Terminal) WaitFor(t testing.TB, want string) string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		term.mu.Lock()
		s := term.screen.String()
		if i := strings.Index(s, want); i >= 0 {
			term.screen.Reset()
			term.screen.WriteString(s[i+len(want):])
			term.mu.Unlock()
			return s[:i+len(want)]
		}
		change, closed := term.change, term.closed
		term.mu.Unlock()
		if closed {
			t.Fatalf("the terminal closed before showing %q; it showed:\n%q", want, s)
		}
		select {
		case <-change:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it showed:\n%q", want, s)
		}
	}
}

// Type sends keystrokes.
func (term *Terminal) Type(t testing.TB, keys string) {
	t.Helper()
	if _, err := term.master.WriteString(keys); err != nil {
		t.Fatal(err)
	}
}

// Exit waits (up to two minutes) for the command's end and returns its
// exit code and what the screen showed since the last WaitFor.
func (term *Terminal) Exit(t testing.TB) (int, string) {
	t.Helper()
	select {
	case <-term.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%v did not end", term.cmd.Args)
	}
	deadline := time.After(2 * time.Minute)
	term.mu.Lock()
	defer term.mu.Unlock()
	for !term.closed { // the rest of its output
		change := term.change
		term.mu.Unlock()
		select {
		case <-change:
		case <-deadline:
			term.mu.Lock() // for the deferred Unlock
			t.Fatalf("%v ended, but its terminal stayed open", term.cmd.Args)
		}
		term.mu.Lock()
	}
	var x *exec.ExitError
	if errors.As(term.err, &x) {
		return x.ExitCode(), term.screen.String()
	}
	if term.err != nil {
		t.Fatal(term.err)
	}
	return 0, term.screen.String()
}
