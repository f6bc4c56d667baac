package network

import (
	"fmt"
	"os"
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
		h, err := NS{}.handle() // made on this thread: inside
		if err != nil {
			return err
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find lo in %s: %w", path, err)
		}
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up in %s: %w", path, err)
		}
		return nil
	})
}
