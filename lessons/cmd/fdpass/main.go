// Command fdpass hands a process's standard output and error to another
// process over a unix socket (SCM_RIGHTS), as a hostile container can
// through a shared volume: the other end holds them open after the
// sender's container has ended. A runtime that waits for a container's
// output to close before it records the exit never records it. The
// tests of mini-docker's monitor and foreground run use it, as they use
// exeattack to play CVE-2019-5736 (lesson 09 runs containers).
//
//	fdpass hold SOCKET [--for DURATION]   receive descriptors and keep them
//	fdpass send SOCKET                    send 0, 1 and 2, then exit
package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: fdpass hold SOCKET [--for DURATION] | fdpass send SOCKET")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "hold":
		d := time.Minute
		if len(os.Args) == 5 && os.Args[3] == "--for" {
			if d, err = time.ParseDuration(os.Args[4]); err != nil {
				break
			}
		}
		err = hold(os.Args[2], d)
	case "send":
		err = send(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fdpass:", err)
		os.Exit(1)
	}
}

// hold listens on path, takes the descriptors one sender passes, says
// so on stdout, and keeps them open for d.
func hold(path string, d time.Duration) error {
	os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	fmt.Println("listening")
	c, err := l.AcceptUnix()
	if err != nil {
		return err
	}
	oob := make([]byte, unix.CmsgSpace(3*4))
	_, n, _, _, err := c.ReadMsgUnix(make([]byte, 1), oob)
	if err != nil {
		return err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:n])
	if err != nil || len(msgs) == 0 {
		return fmt.Errorf("no descriptors came: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return err
	}
	fmt.Printf("holding %d descriptors\n", len(fds))
	time.Sleep(d)
	return nil
}

// send passes its standard input, output and error to the holder at path.
func send(path string) error {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, _, err = c.WriteMsgUnix([]byte{0}, unix.UnixRights(0, 1, 2), nil)
	return err
}
