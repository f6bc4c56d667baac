package probe

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"mini-docker/internal/mountinfo"
)

// Mount is one line of /proc/PID/mountinfo, as internal/mountinfo
// parses it.
type Mount = mountinfo.Mount

// ParseMountinfo parses /proc/PID/mountinfo with mountinfo.Parse, which
// leaves out lines that do not have the shape (mount points are chosen
// by whoever mounts), and unescapes the super options as a whole: the
// checks compare whole values.
func ParseMountinfo(text string) []Mount {
	ms := mountinfo.Parse(text)
	for i := range ms {
		ms[i].Super = mountinfo.Unescape(ms[i].Super)
	}
	return ms
}

// MountsOf reads the mount table a process sees ("self" for the checker).
func MountsOf(pid string) ([]Mount, error) {
	b, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		return nil, NotThere(err)
	}
	return ParseMountinfo(string(b)), nil
}

// MountAt returns the topmost mount at point in the checker's table.
func MountAt(point string) (Mount, error) {
	ms, err := MountsOf("self")
	if err != nil {
		return Mount{}, err
	}
	var found *Mount
	for i := range ms {
		if ms[i].Point == point {
			found = &ms[i]
		}
	}
	if found == nil {
		return Mount{}, fmt.Errorf("nothing is mounted on %s", point)
	}
	return *found, nil
}

// HasOpt reports whether a comma-separated option list holds opt
// (or opt=value when opt ends with "=").
func HasOpt(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt || strings.HasSuffix(opt, "=") && strings.HasPrefix(o, opt) {
			return true
		}
	}
	return false
}

// OptValue returns the value of key=value in an option list.
func OptValue(list, key string) string {
	for _, o := range strings.Split(list, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v
		}
	}
	return ""
}

// ParseSNMP parses /proc/net/snmp, whose protocols come in pairs of lines:
//
//	Icmp: InMsgs InErrors ... InEchos ...
//	Icmp: 3 0 ... 1 ...
//
// and returns counters by "Icmp.InEchos".
func ParseSNMP(text string) map[string]int64 {
	out := map[string]int64{}
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) < 2 || len(names) != len(values) || names[0] != values[0] || !strings.HasSuffix(names[0], ":") {
			continue
		}
		proto := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			if n, err := strconv.ParseInt(values[j], 10, 64); err == nil {
				out[proto+"."+names[j]] = n
			}
		}
		i++
	}
	return out
}

// SnmpIn reads a counter of /proc/net/snmp in the network namespace at
// nsPath ("" for the checker's own).
func SnmpIn(nsPath, counter string) (int64, error) {
	var v int64
	read := func() error {
		// thread-self: /proc/self/net would show the namespace of the
		// process's main thread, not this one's.
		b, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		v = ParseSNMP(string(b))[counter]
		return nil
	}
	if nsPath == "" {
		return v, read()
	}
	return v, InNamespace(nsPath, unix.CLONE_NEWNET, read)
}

// NetnsPath is where `ip netns add NAME` keeps a namespace.
func NetnsPath(name string) string { return "/run/netns/" + name }

// LinksIn lists the links of a named network namespace ("" for the
// checker's own) with netlink, as `ip -n NAME link` does.
func LinksIn(name string) ([]netlink.Link, *netlink.Handle, error) {
	h, err := Handle(name)
	if err != nil {
		return nil, nil, err
	}
	ls, err := h.LinkList()
	if err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("list links: %w", err)
	}
	return ls, h, nil
}

// Handle opens a route netlink socket in network namespace name (ours
// when empty). Route netlink only, as vethctl's: a handle of every
// family also opens xfrm and netfilter sockets, which fail on kernels
// without those modules.
func Handle(name string) (*netlink.Handle, error) {
	if name == "" {
		return netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	ns, err := netns.GetFromPath(NetnsPath(name))
	if err != nil {
		return nil, fmt.Errorf("no network namespace %s: %w", name, NotThere(err))
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", name, err)
	}
	return h, nil
}

// AddrUp checks that a namespace has an up link holding cidr
// ("10.9.0.1/24"); it returns that link.
func AddrUp(name, cidr string) (netlink.Link, error) {
	ip, want, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, err
	}
	want.IP = ip
	ls, h, err := LinksIn(name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	for _, l := range ls {
		addrs, err := h.AddrList(l, unix.AF_INET)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a.IPNet.String() != want.String() {
				continue
			}
			if l.Attrs().Flags&net.FlagUp == 0 {
				return nil, fmt.Errorf("%s has %s but is down", l.Attrs().Name, cidr)
			}
			return l, nil
		}
	}
	return nil, fmt.Errorf("no link has %s", cidr)
}

// LinkByName finds a link of the checker's network namespace.
func LinkByName(name string) (netlink.Link, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("there is no link %s", name)
	}
	return l, nil
}

// RootReadOnly says why process pid's root mount is not read-only, or nil.
func RootReadOnly(pid int) error {
	ms, err := MountsOf(strconv.Itoa(pid))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Point == "/" && !HasOpt(m.Opts, "ro") {
			return fmt.Errorf("its root is mounted %s", m.Opts)
		}
	}
	return nil
}
