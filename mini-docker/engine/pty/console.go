package pty

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The container's terminal (-t), made the way runc makes it: inside the
// container, from the container's own /dev/ptmx, so that the terminal
// belongs to the container's devpts instance (tty(1) names it
// /dev/pts/0 inside, ps shows it). The last hop of the chain creates it,
// makes it the controlling terminal of a new session, puts it on 0, 1
// and 2, and sends the master end to mini-docker over a unix socket
// (SCM_RIGHTS); mini-docker copies between it and the user's terminal.

// SocketPair returns two connected unix stream sockets; theirs is for
// the chain (inherited), ours stays close-on-exec.
func SocketPair() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console"), os.NewFile(uintptr(fds[1]), "console-socket"), nil
}

// ReceiveConsole waits for the master end of the container's terminal.
// It fails when the chain ends before sending one.
func ReceiveConsole(sock *os.File) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive the container's terminal: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, errors.New("receive the container's terminal: the chain ended first")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, errors.New("receive the container's terminal: no descriptor")
	}
	return os.NewFile(uintptr(fds[0]), "/dev/ptmx"), nil
}
