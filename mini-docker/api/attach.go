package api

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"golang.org/x/sys/unix"

	"mini-docker/internal/tick"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/pty"
	"mini-docker/mini-docker/logs"
)

// The streams of attach, exec and logs. Without a TTY, stdout and
// stderr share one connection, so each write travels in a frame: one
// byte naming the stream (1 stdout, 2 stderr), three zero bytes, the
// length as a big-endian uint32, then the bytes (the client's
// stdcopy.StdCopy splits them again). With a TTY there is one stream,
// the terminal's, sent as it is.

// Content types of the two kinds of stream.
const (
	rawStream         = "application/vnd.docker.raw-stream"
	multiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// streamWriter writes one stream to the client. It never fails: once
// the client is gone, output is dropped, so that a container whose
// client left does not block on a full pipe (its log still has it).
type streamWriter struct {
	mu     *sync.Mutex // shared by stdout and stderr: frames never interleave
	w      io.Writer
	stream stdcopy.StdType // 0: raw
	dead   *bool
	flush  func()
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if *sw.dead || len(p) == 0 {
		return len(p), nil
	}
	var err error
	if sw.stream != 0 {
		var hdr [8]byte
		hdr[0] = byte(sw.stream)
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
		_, err = sw.w.Write(append(hdr[:], p...))
	} else {
		_, err = sw.w.Write(p)
	}
	if err != nil {
		*sw.dead = true
	} else if sw.flush != nil {
		sw.flush()
	}
	return len(p), nil
}

// streams returns the stdout and stderr writers over w: framed without
// a TTY, raw with one.
func streams(w io.Writer, tty bool, flush func()) (stdout, stderr *streamWriter) {
	mu, dead := &sync.Mutex{}, new(bool)
	stdout = &streamWriter{mu: mu, w: w, stream: stdcopy.Stdout, dead: dead, flush: flush}
	stderr = &streamWriter{mu: mu, w: w, stream: stdcopy.Stderr, dead: dead, flush: flush}
	if tty {
		stdout.stream, stderr.stream = 0, 0
	}
	return stdout, stderr
}

// attachment is a client's hijacked connection to a container's or an
// exec's standard streams.
type attachment struct {
	conn           net.Conn
	stdin          bool
	stdinR, stdinW *os.File // the client's bytes, through a pipe: a process's stdin must be a file, or exec's copying goroutine outlives it
	stdout, stderr *streamWriter
	taken          chan struct{} // a start took it

	mu     sync.Mutex
	master *os.File      // the pty, with a TTY, while it runs
	size   *unix.Winsize // the client's last resize
	once   sync.Once
}

// hijack takes over the connection of r and answers as dockerd does:
// 101 UPGRADED when the client asked to upgrade, 200 otherwise. Before
// the answer, ready runs (the client may act on the answer at once).
func hijack(w http.ResponseWriter, r *http.Request, tty bool, ready func(net.Conn, *bufio.Reader) error) error {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return fmt.Errorf("the connection cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Time{})
	if err := ready(conn, brw.Reader); err != nil {
		conn.Close()
		return err
	}
	ctype := multiplexedStream
	if tty {
		ctype = rawStream
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(brw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ctype)
	} else {
		fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype)
	}
	if err := brw.Flush(); err != nil {
		conn.Close()
		return err
	}
	return nil
}

// newAttachment starts reading the client: into the stdin pipe, or
// only to learn when it leaves.
func newAttachment(conn net.Conn, in *bufio.Reader, stdin, tty bool) (*attachment, error) {
	a := &attachment{conn: conn, stdin: stdin, taken: make(chan struct{})}
	a.stdout, a.stderr = streams(conn, tty, nil)
	if !stdin {
		// The client closes its writing side at once (no stdin): the
		// end of what it sends says nothing about whether it is there.
		go io.Copy(io.Discard, in)
		return a, nil
	}
	var err error
	if a.stdinR, a.stdinW, err = os.Pipe(); err != nil {
		conn.Close()
		return nil, err
	}
	go func() {
		io.Copy(a.stdinW, in)
		a.stdinW.Close() // EOF for the container's stdin
	}()
	return a, nil
}

// gone returns a channel closed once the client has closed its
// connection (both directions: the socket polls as hung up), checked
// twice a second until stop is closed.
func (a *attachment) gone(stop <-chan struct{}) <-chan struct{} {
	ch := make(chan struct{})
	sc, ok := a.conn.(syscall.Conn)
	if !ok {
		return ch
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ch
	}
	go tick.Until(stop, 500*time.Millisecond, func() bool {
		hup := false
		raw.Control(func(fd uintptr) {
			p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			if n, err := unix.Poll(p, 0); n == 1 && err == nil {
				hup = p[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0
			}
		})
		if hup {
			close(ch)
		}
		return hup
	})
	return ch
}

// close ends the attachment: the client sees the end of the stream.
func (a *attachment) close() {
	a.once.Do(func() {
		a.conn.Close()
		if a.stdinR != nil {
			a.stdinR.Close()
		}
	})
}

// terminal is the engine's Terminal hook for a -t container or exec:
// the client's bytes to the pty, the pty's to the client.
func (a *attachment) terminal(p *pty.Pty, out io.Writer, withStdin bool) func() {
	a.setMaster(p.Master)
	var in io.Reader
	if withStdin && a.stdinR != nil {
		in = a.stdinR
	}
	drained := p.Pump(in, out)
	return func() {
		drained()
		a.setMaster(nil)
	}
}

func (a *attachment) setMaster(m *os.File) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.master = m
	if m != nil && a.size != nil {
		unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, a.size)
	}
}

// resize sets the terminal's size now, or once it exists.
func (a *attachment) resize(h, w uint16) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.size = &unix.Winsize{Row: h, Col: w}
	if a.master != nil {
		unix.IoctlSetWinsize(int(a.master.Fd()), unix.TIOCSWINSZ, a.size)
	}
}

// sizeParams reads ?h=ROWS&w=COLUMNS.
func sizeParams(r *http.Request) (uint16, uint16, error) {
	h, err1 := strconv.ParseUint(r.URL.Query().Get("h"), 10, 16)
	w, err2 := strconv.ParseUint(r.URL.Query().Get("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, wire.Badf("invalid size: h=%q w=%q: want two numbers up to 65535", r.URL.Query().Get("h"), r.URL.Query().Get("w"))
	}
	return uint16(h), uint16(w), nil
}

// attach answers POST /containers/{id}/attach. Before the start (docker
// run attaches, then starts), the connection waits for the start, which
// runs the container with it; to a running container it streams the
// container's output from now on.
func (s *Server) attach(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	if !wire.BoolParam(r, "stream") && !wire.BoolParam(r, "logs") {
		return wire.Badf("attach wants stream=1 (or logs=1)")
	}
	if ct.State.Running {
		return s.attachRunning(w, r, e, ct)
	}
	// Registered before the answer: the client starts the container as
	// soon as it has it.
	var a *attachment
	err := hijack(w, r, ct.Config.Tty, func(conn net.Conn, in *bufio.Reader) (err error) {
		if a, err = newAttachment(conn, in, wire.BoolParam(r, "stdin") && ct.Config.OpenStdin, ct.Config.Tty); err != nil {
			return err
		}
		s.mu.Lock()
		old := s.attaching[ct.ID]
		s.attaching[ct.ID] = a
		s.mu.Unlock()
		if old != nil {
			old.close()
		}
		return nil
	})
	if err != nil {
		if a != nil {
			s.takeAttachment(ct.ID)
			a.close()
		}
		return nil
	}
	// Dropped when its client leaves before the start, or when no start
	// comes within ten minutes.
	go func() {
		t := time.NewTimer(10 * time.Minute)
		defer t.Stop()
		select {
		case <-a.taken:
			return
		case <-a.gone(a.taken):
		case <-t.C:
		}
		s.mu.Lock()
		if s.attaching[ct.ID] == a {
			delete(s.attaching, ct.ID)
		}
		s.mu.Unlock()
		a.close()
	}()
	return nil
}

// takeAttachment returns (and forgets) the client attached to container
// id before its start, nil when there is none.
func (s *Server) takeAttachment(id string) *attachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attaching[id]
	if a != nil {
		delete(s.attaching, id)
		close(a.taken)
	}
	return a
}

// attachRunning streams a running container's output (its log, from
// its current end) until the container ends. Its stdin belongs to
// whoever started it.
func (s *Server) attachRunning(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	offset, err := logs.Each(ct.LogPath, 0, func(logs.Entry) error { return nil }) // its end, without holding it
	if err != nil {
		return err
	}
	var a *attachment
	err = hijack(w, r, ct.Config.Tty, func(conn net.Conn, in *bufio.Reader) (err error) {
		a, err = newAttachment(conn, in, false, ct.Config.Tty)
		return err
	})
	if err != nil {
		return nil
	}
	defer a.close()
	stop := make(chan struct{})
	defer close(stop)
	follow(a.gone(stop), e, ct, offset, a.stdout, a.stderr)
	return nil
}

// follow sends the log's entries from offset on, each to its stream, as
// the log grows, until the container is no longer running or stop is
// closed.
func follow(stop <-chan struct{}, e *engine.Engine, ct *container.Container, offset int64, stdout, stderr io.Writer) {
	// sendNew sends what the log gained; once the container no longer
	// runs, what it wrote last too, and it is done.
	fw := logs.NewFollower(ct.LogPath, offset) // across rotations
	one := func(en logs.Entry) error {
		send([]logs.Entry{en}, stdout, stderr)
		return nil
	}
	sendNew := func() (done bool) {
		fw.Next(one)
		if cur, err := e.Find(ct.ID); err == nil && cur.State.Running {
			return false
		}
		fw.Next(one)
		return true
	}
	if !sendNew() {
		tick.Until(stop, 50*time.Millisecond, sendNew)
	}
}

// send writes each log entry to the stream it came from.
func send(es []logs.Entry, stdout, stderr io.Writer) {
	for _, en := range es {
		if en.Stream == "stderr" {
			io.WriteString(stderr, en.Log)
		} else {
			io.WriteString(stdout, en.Log)
		}
	}
}

func (s *Server) resize(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	h, wd, err := sizeParams(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	rn := s.runs[ct.ID]
	a := s.attaching[ct.ID]
	s.mu.Unlock()
	switch {
	case rn != nil && rn.att != nil:
		rn.att.resize(h, wd)
	case a != nil:
		a.resize(h, wd)
	default:
		return wire.Conflicting(fmt.Errorf("container %s has no terminal attached here", ct.ID))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// logs answers GET /containers/{id}/logs from the container's log
// file (stdout and stderr, together, as the CLI's logs prints them).
func (s *Server) logs(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	if !wire.BoolParam(r, "stdout") && !wire.BoolParam(r, "stderr") {
		return wire.Badf("Bad parameters: you must choose at least one stream")
	}
	tail := -1
	if v := r.URL.Query().Get("tail"); v != "" && v != "all" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return wire.Badf("invalid tail %q: want a number or all", v)
		}
		tail = n
	}
	ctype := multiplexedStream
	if ct.Config.Tty {
		ctype = rawStream
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
	}
	stdout, stderr := streams(w, ct.Config.Tty, flush)
	var out, errOut io.Writer = io.Discard, io.Discard
	if wire.BoolParam(r, "stdout") {
		out = stdout
	}
	if wire.BoolParam(r, "stderr") {
		errOut = stderr
	}
	offset, err := logs.Tail(ct.LogPath, tail, nil, func(en logs.Entry) error {
		send([]logs.Entry{en}, out, errOut)
		return nil
	})
	if err != nil {
		return nil
	}
	if wire.BoolParam(r, "follow") {
		follow(r.Context().Done(), e, ct, offset, out, errOut)
	}
	return nil
}
