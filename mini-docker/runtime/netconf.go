package runtime

import (
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ConfigureNetns sets, inside the network namespace at nsPath, the two
// sysctls Docker sets for every container, and brings lo up when asked
// (--network none: no vethctl create did it).
//
// setns(2) into a network namespace changes only the calling thread, so
// the work runs on a goroutine locked to its own thread, which is never
// unlocked: the Go runtime then ends that thread with the goroutine,
// and no other goroutine ever runs in the container's namespace.
func ConfigureNetns(nsPath string, loUp bool) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- configureNetns(nsPath, loUp)
	}()
	return <-errc
}

func configureNetns(nsPath string, loUp bool) error {
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
	if loUp {
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
