package attach

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
)

// Hub is the monitor's side: the container's streams and the clients
// attached to them. Output goes to every client; input from any client
// goes to the container (its terminal, or the pipe on its stdin).
type Hub struct {
	mu      sync.Mutex // clients, and the order of frames on each
	clients map[net.Conn]bool
	l       net.Listener

	inMu       sync.Mutex
	input      io.WriteCloser // nil: the container has no stdin (run without -i)
	closeOnEOF bool           // run -i without -d: the first client's end of input is the container's (Docker's StdinOnce)
	resize     func(rows, cols uint16)
}

// NewHub serves l (nil: no socket, only clients given to Add).
func NewHub(l net.Listener) *Hub {
	h := &Hub{clients: map[net.Conn]bool{}, l: l}
	if l != nil {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return // closed by End
				}
				h.Add(c)
			}
		}()
	}
	return h
}

// SetInput connects the clients' input to w: a -t container's terminal,
// or the write end of its stdin pipe.
func (h *Hub) SetInput(w io.WriteCloser, closeOnEOF bool) {
	h.inMu.Lock()
	h.input, h.closeOnEOF = w, closeOnEOF
	h.inMu.Unlock()
}

// SetResize gives the clients' window sizes to fn (a -t container's
// terminal).
func (h *Hub) SetResize(fn func(rows, cols uint16)) {
	h.inMu.Lock()
	h.resize = fn
	h.inMu.Unlock()
}

// Add attaches a client and reads its input until it leaves.
func (h *Hub) Add(c net.Conn) {
	h.mu.Lock()
	h.clients[c] = true
	h.mu.Unlock()
	go func() {
		defer h.drop(c)
		for {
			kind, p, err := ReadFrame(c)
			if err != nil {
				return // detached, or gone
			}
			h.in(kind, p)
		}
	}()
}

// in handles one frame of a client's input.
func (h *Hub) in(kind byte, p []byte) {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	switch {
	case kind == Resize && len(p) == 4 && h.resize != nil:
		h.resize(binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]))
	case h.input == nil:
	case kind == Stdin:
		h.input.Write(p)
	case kind == Close && h.closeOnEOF:
		h.input.Close()
		h.input = nil
	}
}

func (h *Hub) drop(c net.Conn) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.Close()
}

// Writer is one of the container's output streams, copied to every
// client. It never fails: a client that is gone is dropped, and the
// container writes on (the log has everything).
func (h *Hub) Writer(stream byte) io.Writer { return hubWriter{h, stream} }

type hubWriter struct {
	h      *Hub
	stream byte
}

func (w hubWriter) Write(p []byte) (int, error) {
	w.h.send(w.stream, p)
	return len(p), nil
}

func (h *Hub) send(stream byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if WriteFrame(c, stream, p) != nil {
			delete(h.clients, c)
			c.Close()
		}
	}
}

// End tells every client the container's exit code, and closes them
// and the socket.
func (h *Hub) End(code int) {
	if h.l != nil {
		h.l.Close()
	}
	h.send(Exit, []byte(strconv.Itoa(code)))
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.Close()
		delete(h.clients, c)
	}
}
