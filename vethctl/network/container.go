package network

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ConfigureContainerNetns sets, inside the network namespace at path,
// the two sysctls Docker sets for every container. With none (--network
// none: no veth brought lo up) it also brings lo up. IPv6 stays as the
// kernel gives it to a new namespace, so lo holds 127.0.0.1/8 and ::1/128
// where the kernel has IPv6, as Docker 26 and later leave it (moby#47062:
// a container turns it off with --sysctl net.ipv6.conf.all.disable_ipv6=1);
// Docker 20.10 turned IPv6 off in a --network none container.
func ConfigureContainerNetns(path string, none bool) error {
	return DoAt(path, func() error {
		// /proc/sys/net shows the namespace of the thread that opens the
		// file: this one, now.
		for _, s := range []struct{ path, value string }{
			{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
			{"/proc/sys/net/ipv4/ping_group_range", "0 2147483647"},
		} {
			if err := os.WriteFile(s.path, []byte(s.value), 0o644); err != nil {
				return fmt.Errorf("set %s in %s: %w", s.path, path, err)
			}
		}
		if !none {
			return nil
		}
		if err := LoopbackUp(); err != nil {
			return fmt.Errorf("in %s: %w", path, err)
		}
		return nil
	})
}

// LoopbackUp is `ip link set lo up` in the calling thread's network
// namespace: a new namespace's lo starts down, and 127.0.0.1 with it.
// It sets the same IFF_UP flag ip sets over netlink, through the older
// interface ifconfig uses (SIOCSIFFLAGS on any socket of the
// namespace, netdevice(7)): one socket and two ioctls, where a netlink
// handle and the lookup of lo cost a fresh process about a millisecond
// more (the netlink package's first use).
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("ip link set lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("ip link set lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("ip link set lo up: %w", err)
	}
	return nil
}
