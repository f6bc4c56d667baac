// Package pty is the container's terminal (docker run -t, exec -t):
// the pseudo-terminal made inside the container, its master end
// received over a unix socket, and the copy between it and the user's
// terminal. Lesson 09 (lessons/09-mini-docker.md) teaches it.
package pty

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Pty is a pseudo-terminal pair: the container gets the slave as its
// terminal, mini-docker copies between the master and the user's
// terminal (what `docker run -t` does).
type Pty struct {
	Master, Slave *os.File
}

// Close closes both ends.
func (p *Pty) Close() {
	if p.Master != nil {
		p.Master.Close()
	}
	if p.Slave != nil {
		p.Slave.Close()
	}
}

// Attach connects the user's terminal to the pty: raw mode on our
// terminal (so Ctrl-C travels to the container as a byte, and its pty
// turns it into SIGINT), the window size copied now and on SIGWINCH,
// and both directions copied. It returns a function that restores the
// terminal once the output is drained.
func (p *Pty) Attach(in *os.File, out io.Writer, withStdin bool) func() {
	fd := int(in.Fd())
	restoreMode := func() {}
	if withStdin {
		restoreMode = MakeRaw(fd)
	}
	stopResize := FollowSize(fd, func(ws *unix.Winsize) {
		unix.IoctlSetWinsize(int(p.Master.Fd()), unix.TIOCSWINSZ, ws)
	})
	var src io.Reader
	if withStdin {
		src = in
	}
	drained := p.Pump(src, hangUpOnError{out, p.Master})
	return func() {
		drained()
		stopResize()
		restoreMode()
	}
}

// hangUpOnError writes to the user's output, and when that fails (run
// -t ... | head: the reader is gone) closes the master, which hangs the
// terminal up as closing a terminal window does: the container's next
// write to its terminal fails (EIO) instead of blocking, with nobody
// reading, on a full pty. The copy stops at the error, so nothing reads
// the master after the close.
type hangUpOnError struct {
	io.Writer
	master *os.File
}

func (h hangUpOnError) Write(b []byte) (int, error) {
	n, err := h.Writer.Write(b)
	if err != nil {
		h.master.Close()
	}
	return n, err
}

// Pump copies in (unless nil) to the master and the master to out. It
// returns a function that waits until the output is drained: the copy
// ends with EIO once the last slave closes.
func (p *Pty) Pump(in io.Reader, out io.Writer) (drained func()) {
	if in != nil {
		go io.Copy(p.Master, in)
	}
	done := make(chan struct{})
	go func() {
		io.Copy(out, p.Master)
		close(done)
	}()
	return func() { Drained(done) }
}

// OutputGrace is how long a container's output is still copied once the
// process the engine waits for has ended. The kernel ends the rest of a
// PID namespace with its first process, so the output closes at once;
// a process that holds it longer (a descriptor passed to another
// container, or --pid host) is not waited for: the exit is recorded, as
// containerd's shim reports it when it reaps the container's process.
const OutputGrace = 2 * time.Second

// Drained waits for done (a copy of the output ending), OutputGrace at
// the most.
func Drained(done <-chan struct{}) {
	select {
	case <-done:
	case <-time.After(OutputGrace):
	}
}

// FollowSize calls fn with the size of the terminal fd now and on
// every SIGWINCH (the kernel's signal that a terminal's size changed),
// until stop is called.
func FollowSize(fd int, fn func(*unix.Winsize)) (stop func()) {
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			fn(ws)
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			resize()
		}
	}()
	return func() {
		signal.Stop(winch)
		close(winch)
	}
}

// MakeRaw puts the terminal fd in raw mode, if it is one (so Ctrl-C
// travels to the container as a byte, and its pty turns it into
// SIGINT), and returns how to restore it.
func MakeRaw(fd int) (restore func()) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	unix.IoctlSetTermios(fd, unix.TCSETS, &raw)
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
