// Package attach connects a user to a running container's standard
// streams, as docker attach does: the container's monitor (package
// engine/monitor) holds the streams for the container's whole life (its
// terminal's master end with -t, the pipes without) and serves them on a
// unix socket in the container's folder; a client (mini-docker attach,
// start -a) connects, sends its keystrokes and window size, and receives
// the output and, at the end, the exit code. Detaching (ctrl-p ctrl-q)
// closes only the connection: the container runs on.
//
// On the socket every message is a frame, the format of Docker's
// multiplexed attach stream: one byte naming the stream, three zero
// bytes, the payload's length as a big-endian uint32, then the payload.
package attach

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
)

// The frames' first byte.
const (
	Stdin  byte = 0 // client → monitor: keystrokes or piped input
	Stdout byte = 1 // monitor → client (all of a -t container's output)
	Stderr byte = 2
	Exit   byte = 3 // monitor → client: the exit code, in decimal, last
	Resize byte = 4 // client → monitor: rows and columns, two big-endian uint16
	Close  byte = 5 // client → monitor: end of the client's input
)

// SocketName is the socket's name in the container's folder.
const SocketName = "attach.sock"

// maxFrame bounds a frame's payload (a client's read buffer is 32 KiB).
const maxFrame = 1 << 20

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, stream byte, p []byte) error {
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	_, err := w.Write(append(hdr[:], p...))
	return err
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach: a frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return hdr[0], p, nil
}

// throughDir runs fn with a short path to dir/name: /proc/self/fd/N/name
// of an open descriptor of dir. A socket's path must fit in sun_path's
// 108 bytes, and a container's folder under a deep state root does not;
// the kernel resolves the magic link of the descriptor like a folder.
func throughDir(dir, name string, fn func(path string) error) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), name))
}

// Listen makes the attach socket in the container's folder dir (only
// root may connect: the folder and the socket are root's).
func Listen(dir string) (*net.UnixListener, error) {
	var l *net.UnixListener
	err := throughDir(dir, SocketName, func(p string) error {
		os.Remove(p)
		var err error
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		if err == nil {
			l.SetUnlinkOnClose(false) // its path was the descriptor's: Remove unlinks it by the real one
			err = os.Chmod(p, 0o600)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", filepath.Join(dir, SocketName), err)
	}
	return l, nil
}

// Dial connects to the attach socket in the container's folder dir.
func Dial(dir string) (net.Conn, error) {
	var c net.Conn
	err := throughDir(dir, SocketName, func(p string) error {
		var err error
		c, err = net.Dial("unix", p)
		return err
	})
	return c, err
}
