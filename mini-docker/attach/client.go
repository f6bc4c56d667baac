package attach

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/engine/pty"
)

// Options says what a client connects.
type Options struct {
	In         *os.File // the user's input; nil: none (attach --no-stdin, a container without -i)
	Out, Err   io.Writer
	TTY        bool   // the container has a terminal: ours goes raw, its size follows ours, detach keys work
	DetachKeys []byte // with TTY
}

// ErrDetached is the user's detach sequence, in Docker's words.
var ErrDetached = errors.New("read escape sequence")

// Stream copies between the user and the container on conn until the
// container ends (its exit code) or the user detaches (ErrDetached).
func Stream(conn net.Conn, o Options) (int, error) {
	var wmu sync.Mutex // input and resize frames from two goroutines
	send := func(kind byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return WriteFrame(conn, kind, p)
	}
	detached := make(chan struct{})
	if o.In != nil {
		if o.TTY {
			defer pty.MakeRaw(int(o.In.Fd()))()
			defer followSize(int(o.In.Fd()), send)()
		}
		go func() {
			if copyInput(o.In, o.TTY, o.DetachKeys, send) {
				close(detached)
				conn.Close()
			}
		}()
	}
	for {
		kind, p, err := ReadFrame(conn)
		if err != nil {
			select {
			case <-detached:
				return 0, ErrDetached
			default:
			}
			return 0, errors.New("the container's monitor went away before the container ended")
		}
		switch kind {
		case Stdout:
			o.Out.Write(p)
		case Stderr:
			o.Err.Write(p)
		case Exit:
			code, err := strconv.Atoi(string(p))
			if err != nil {
				return 0, fmt.Errorf("attach: exit code %q", p)
			}
			return code, nil
		}
	}
}

// copyInput sends the user's input until it ends (then says so once)
// or the detach sequence is typed (then it returns true).
func copyInput(in io.Reader, tty bool, keys []byte, send func(byte, []byte) error) bool {
	esc := &escapeProxy{}
	if tty {
		esc.keys = keys
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			out, detach := esc.feed(buf[:n])
			if len(out) > 0 && send(Stdin, out) != nil {
				return false
			}
			if detach {
				return true
			}
		}
		if err != nil {
			send(Close, nil)
			return false
		}
	}
}

// followSize sends the terminal's size now and on every SIGWINCH.
func followSize(fd int, send func(byte, []byte) error) (stop func()) {
	return pty.FollowSize(fd, func(ws *unix.Winsize) {
		var p [4]byte
		binary.BigEndian.PutUint16(p[:], ws.Row)
		binary.BigEndian.PutUint16(p[2:], ws.Col)
		send(Resize, p[:])
	})
}
