package monitor

import (
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/attach"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/pty"
)

// The monitor holds the container's streams for its whole life, so that
// a user can attach after the command that started it has gone (docker
// run -dit, then docker attach): with -t the terminal's master end, with
// -i the write end of the pipe on the container's stdin. It serves them
// on the attach socket in the container's folder (package attach). A
// client that started the container (start -a) is attached before the
// container runs, on the descriptor engine.AttachedFd, so it sees all
// of the output.

// streams are the container's ends the monitor holds.
type streams struct {
	hub    *attach.Hub
	stdin  *os.File // the container's end of its stdin pipe (-i without -t), closed once it has it
	master *os.File // -t: the terminal's master end, once received
}

// openStreams makes the attach socket, takes the client that started
// the container, and, with -i and no terminal, the stdin pipe.
func openStreams(e *engine.Engine, c *container.Container) (*streams, error) {
	l, err := attach.Listen(e.Store.Dir(c.ID))
	if err != nil {
		return nil, err
	}
	s := &streams{hub: attach.NewHub(l)}
	if os.Getenv(engine.AttachedEnv) == "1" {
		if conn, err := net.FileConn(os.NewFile(engine.AttachedFd, "client")); err == nil {
			s.hub.Add(conn)
		}
	}
	if c.Config.OpenStdin && !c.Config.Tty {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.stdin = r
		s.hub.SetInput(w, c.Config.StdinOnce)
	}
	return s, nil
}

// output is where a stream of the container goes: its log and the clients.
func (s *streams) output(log io.Writer, stream byte) io.Writer {
	return io.MultiWriter(log, s.hub.Writer(stream))
}

// terminal receives a -t container's master end from the chain and
// copies its output to out until the last process holding the terminal
// closes it; done is closed then.
func (s *streams) terminal(sock *os.File, c *container.Container, out io.Writer) (done chan struct{}, err error) {
	master, err := pty.ReceiveConsole(sock)
	sock.Close()
	if err != nil {
		return nil, err
	}
	s.master = master
	s.hub.SetResize(func(rows, cols uint16) {
		unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	})
	if c.Config.OpenStdin {
		s.hub.SetInput(master, false)
	}
	done = make(chan struct{})
	go func() {
		io.Copy(out, master) // ends with EIO when the last slave closes
		close(done)
	}()
	return done, nil
}
