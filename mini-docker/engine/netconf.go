package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ConfigureNetns sets, inside the network namespace at nsPath, the two
// sysctls Docker sets for every container. With none (--network none, no
// vethctl create brought lo up) it turns IPv6 off in the namespace, as
// Docker does for a network without IPv6, then brings lo up: lo then
// holds 127.0.0.1/8 only, not ::1.
//
// setns(2) into a network namespace changes only the calling thread, so
// the work runs on a goroutine locked to its own thread, which goes back
// to its own namespace before it is unlocked. If it cannot go back, it
// stays locked: the Go runtime then ends that thread with the goroutine,
// so no other goroutine ever runs in the container's namespace. (Except
// the main thread, which Go never ends but parks: it is the one
// /proc/self/net shows, so it must go back, not be parked there.)
func ConfigureNetns(nsPath string, none bool) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open this thread's network namespace: %w", err)
			return
		}
		defer unix.Close(back)
		err = configureNetns(nsPath, none)
		// Back first, then answer: the caller may look at its threads as
		// soon as it has the answer.
		if unix.Setns(back, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func configureNetns(nsPath string, none bool) error {
	fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", nsPath, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: setns: %w", nsPath, err)
	}
	// /proc/sys/net shows the namespace of the thread that opens the
	// file: this one, now.
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
		{"/proc/sys/net/ipv4/ping_group_range", "0 2147483647"},
	} {
		if err := os.WriteFile(s.path, []byte(s.value), 0o644); err != nil {
			return fmt.Errorf("set %s in %s: %w", s.path, nsPath, err)
		}
	}
	if none {
		// Before lo goes up, so the kernel never gives it ::1. "all" and
		// "default" too, as Docker sets them (no IPv6 in this namespace).
		for _, dev := range []string{"all", "default", "lo"} {
			p := "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"
			err := os.WriteFile(p, []byte("1"), 0o644)
			if err != nil && !errors.Is(err, fs.ErrNotExist) { // a kernel without IPv6 has no such file
				return fmt.Errorf("turn IPv6 off (%s) in %s: %w", p, nsPath, err)
			}
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find lo in %s: %w", nsPath, err)
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up in %s: %w", nsPath, err)
		}
	}
	return nil
}
