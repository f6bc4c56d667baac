package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ConfigureContainerNetns sets, inside the network namespace at path,
// the two sysctls Docker sets for every container. With none (--network
// none: no veth brought lo up) it also turns IPv6 off in the namespace,
// as Docker does for a network without IPv6, then brings lo up: lo then
// holds 127.0.0.1/8 only, not ::1.
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
		// Before lo goes up, so the kernel never gives it ::1. "all" and
		// "default" too, as Docker sets them (no IPv6 in this namespace).
		for _, dev := range []string{"all", "default", "lo"} {
			p := "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6"
			err := os.WriteFile(p, []byte("1"), 0o644)
			if err != nil && !errors.Is(err, fs.ErrNotExist) { // a kernel without IPv6 has no such file
				return fmt.Errorf("turn IPv6 off (%s) in %s: %w", p, path, err)
			}
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
