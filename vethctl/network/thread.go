package network

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// This file is the one place that moves a thread into another network
// namespace. setns(2) and unshare(2) change only the calling thread, and
// Go runs goroutines on whichever thread is free: so the work runs on a
// goroutine locked to its thread, and that thread must be back in the
// process's namespace before Go may run anything else on it.

// processNetns identifies the namespace the process started in, read
// during package initialization, on the main thread, before any code of
// this package could move a thread. Go never starts a thread from a
// locked one (it asks its template thread instead), so every thread
// onThread has not locked is in that namespace.
//
// /proc/self/ns/net is not that: it is the namespace of the main thread
// alone, and the main thread may be parked inside another namespace (Go
// never ends the main thread; a goroutine that exits locked to it parks
// it for good, still inside). Going back to /proc/self/ns/net then sends
// a thread into that other namespace and hands it back to Go dirty;
// comparing with it made a forward started inside a namespace dial from
// the wrong one.
var processNetns, processNetnsErr = threadNetns()

// threadNetns returns the device and inode that identify the calling
// thread's network namespace.
func threadNetns() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/thread-self/ns/net", &st)
	return st, err
}

// isProcessNetns reports whether fd is the namespace every unlocked
// thread is in, so that sockets can be made from any thread.
func isProcessNetns(fd netns.NsHandle) bool {
	var st unix.Stat_t
	if processNetnsErr != nil || unix.Fstat(int(fd), &st) != nil {
		return false // unsure: the caller then joins fd explicitly
	}
	return sameNetns(st, processNetns)
}

func sameNetns(a, b unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// DoAt runs fn on an OS thread inside the network namespace whose file is
// path (/run/netns/NAME, /proc/PID/ns/net), or, for "", on a locked
// thread of the process's own namespace. The thread fn runs on is its
// own until fn returns: a process fn forks is a child of that thread
// (PR_SET_PDEATHSIG fires when it ends) and is born in the namespace.
func DoAt(path string, fn func() error) error {
	if path == "" {
		return onThread(func() error { return nil }, fn)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer unix.Close(fd)
	return doIn(netns.NsHandle(fd), path, fn)
}

// doIn runs fn on a thread that has joined the namespace fd refers to.
func doIn(fd netns.NsHandle, what string, fn func() error) error {
	return onThread(func() error {
		if err := unix.Setns(int(fd), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns into %s: %w", what, err)
		}
		return nil
	}, fn)
}

// onThread runs enter and then fn on a goroutine locked to its thread,
// and returns the first error. Afterwards the thread goes back to the
// namespace it came from and is given back to Go only if the kernel
// shows it in the process's namespace (processNetns, never
// /proc/self/ns/net). Otherwise the goroutine ends still locked: Go then
// ends the thread, so no other goroutine ever runs in the wrong
// namespace.
func onThread(enter, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("open this thread's network namespace: %w", err)
			return // still locked: the thread ends with the goroutine
		}
		defer unix.Close(back)
		err = enter()
		if err == nil {
			err = fn()
		}
		// Back first, then answer: the caller may look at its threads as
		// soon as it has the answer.
		if unix.Setns(back, unix.CLONE_NEWNET) == nil && inProcessNetns() {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// inProcessNetns reports whether the calling thread is in the process's
// network namespace.
func inProcessNetns() bool {
	st, err := threadNetns()
	return err == nil && processNetnsErr == nil && sameNetns(st, processNetns)
}
