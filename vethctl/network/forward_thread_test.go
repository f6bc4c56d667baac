package network

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// mainThreadEnv makes the test binary play the case that broke
// TestForwardFromHostLoopbackToContainer: the process's main thread is
// inside the namespace a forward is started from, so /proc/self/ns/net
// names that namespace, while every other thread is still in the
// process's first one. The forwarder used to take that as "any thread
// can dial" and dialed from the wrong namespace: out through the real
// host's default route, where the first connection was reset.
const mainThreadEnv = "VETHCTL_TEST_FORWARD_FROM_MAIN_THREAD"

// forwardFromMainThread moves the main thread into a new namespace, so
// /proc/self/ns/net is that namespace, serves on its loopback and
// forwards to it from a forward started on the main thread.
func forwardFromMainThread() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	h, err := NS{}.handle()
	if err != nil {
		return err
	}
	err = loUp(h, NS{}, nil)
	h.Close()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("inside"))
			c.Close()
		}
	}()
	fw, err := StartForward(Forward{Proto: "tcp", Listen: "127.0.0.1:0", Target: ln.Addr().String()}, nil)
	if err != nil {
		return err
	}
	defer fw.Close()
	for i := 0; i < 20; i++ { // relays run on many threads: try a few
		c, err := net.Dial("tcp", fw.Addr().String())
		if err != nil {
			return err
		}
		b := make([]byte, 16)
		n, _ := c.Read(b)
		c.Close()
		if string(b[:n]) != "inside" {
			return fmt.Errorf("connection %d through the forward got %q, want \"inside\": "+
				"the forward dialed from another namespace than the one it was started in", i, b[:n])
		}
	}
	return nil
}

// A forward started inside a namespace dials from that namespace, even
// when the process's main thread is the one that joined it.
func TestForwardDialsFromItsNamespaceWhenMainThreadMoved(t *testing.T) {
	onMainThread(t, mainThreadEnv)
}
