package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// Veth describes a veth pair whose host end stays in the caller's
// namespace and whose peer goes into NS, as Docker wires a container.
type Veth struct {
	Host    string     // host-side name, e.g. "veth1a2b3c4"
	Peer    string     // name inside NS, e.g. "eth0"
	NS      NS         // where the peer goes (zero: stays with the host end)
	Addr    *net.IPNet // the peer's address and prefix, optional
	Gateway net.IP     // default route inside NS, optional (needs Addr)
	MTU     int        // MTU of both ends, 0 for the kernel's 1500
	Bridge  string     // bridge the host end joins, optional
	// PeerMAC is the peer's hardware address (nil: the kernel picks a
	// random one). MACFor derives one from the address, as Docker does.
	PeerMAC net.HardwareAddr
}

// MACFor is the hardware address Docker gives a container's interface
// for an IPv4 address: 02:42 (locally administered) and the address's
// four bytes (172.17.0.2 -> 02:42:ac:11:00:02). The same address always
// gets the same MAC, so a neighbour that cached it for a container that
// has gone reaches the one that got its address next.
func MACFor(ip net.IP) net.HardwareAddr {
	v4 := ip.To4()
	if v4 == nil {
		return nil
	}
	return net.HardwareAddr{0x02, 0x42, v4[0], v4[1], v4[2], v4[3]}
}

// CreateVeth builds the pair step by step, the way `ip` would, and
// returns how to delete it. On any failure what was made is removed
// before returning, so no half-configured veth is left behind.
func CreateVeth(v Veth, ex *explain.Printer) (undo func() error, err error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	host, err := NS{}.handle()
	if err != nil {
		return nil, fmt.Errorf("create veth %s: netlink: %w", v.Host, err)
	}
	defer host.Close()
	inside := host
	if !v.NS.IsCurrent() {
		if inside, err = v.NS.handle(); err != nil {
			return nil, fmt.Errorf("create veth %s: %w", v.Host, err)
		}
		defer inside.Close()
	}
	if err := v.checkFree(host, inside); err != nil {
		return nil, err
	}
	var bridge netlink.Link
	if v.Bridge != "" {
		if bridge, err = lookupBridge(host, v.Bridge); err != nil {
			return nil, fmt.Errorf("create veth %s: %w", v.Host, err)
		}
	}

	// From here on, something exists: undo it on every failure.
	if err := addPair(host, v, ex); err != nil {
		return nil, err
	}
	remove := func() error { return DeleteLink(v.Host, nil) }
	defer func() {
		if err != nil {
			remove()
		}
	}()
	hostEnd, err := host.LinkByName(v.Host)
	if err != nil {
		return nil, fmt.Errorf("create veth %s: find the new link: %w", v.Host, err)
	}
	if bridge != nil {
		if err = setMaster(host, hostEnd, bridge, ex); err != nil {
			return nil, err
		}
	}
	if err = linkUp(host, NS{}, hostEnd, ex); err != nil {
		return nil, err
	}
	peer, err := inside.LinkByName(v.Peer)
	if err != nil {
		return nil, fmt.Errorf("create veth %s: find peer %s in %s: %w", v.Host, v.Peer, v.NS, err)
	}
	if err = v.configurePeer(inside, peer, ex); err != nil {
		return nil, err
	}
	return remove, nil
}

// configurePeer gives the peer end its address and the default route,
// and brings it and the namespace's lo up (a new namespace starts with
// lo down). inside is a netlink socket opened in the peer's namespace:
// it acts there from any thread, so no thread has to switch namespaces.
func (v Veth) configurePeer(inside *netlink.Handle, peer netlink.Link, ex *explain.Printer) (err error) {
	if v.Addr != nil {
		if err = addAddr(inside, v.NS, peer, v.Addr, ex); err != nil {
			return err
		}
	}
	if err = linkUp(inside, v.NS, peer, ex); err != nil {
		return err
	}
	if !v.NS.IsCurrent() {
		if err = loUp(inside, v.NS, ex); err != nil {
			return err
		}
	}
	if v.Gateway != nil {
		return addDefaultRoute(inside, v.NS, peer, v.Gateway, ex)
	}
	return nil
}

// addPair creates the veth pair with its peer born in the target
// namespace (IFLA_NET_NS_FD in the peer's attributes, what `ip link add
// ... peer name eth0 netns NS` sends). The peer can take its final name
// at once, since a name only has to be unique in its own namespace (the
// host's eth0 does not collide with the container's), and it never has
// to move: moving a link between namespaces costs the kernel as much as
// deleting and re-registering it.
func addPair(host *netlink.Handle, v Veth, ex *explain.Printer) error {
	mtu, netnsArg, mac := "", "", ""
	if v.MTU > 0 {
		mtu = fmt.Sprintf(" mtu %d", v.MTU)
	}
	la := netlink.NewLinkAttrs()
	la.Name = v.Host
	la.MTU = v.MTU // netlink applies it to the peer as well
	link := &netlink.Veth{LinkAttrs: la, PeerName: v.Peer, PeerHardwareAddr: v.PeerMAC}
	if v.PeerMAC != nil {
		mac = " address " + v.PeerMAC.String()
	}
	if !v.NS.IsCurrent() {
		fd, err := v.NS.open()
		if err != nil {
			return fmt.Errorf("create veth %s: %w", v.Host, err)
		}
		defer fd.Close()
		link.PeerNamespace = netlink.NsFd(fd)
		netnsArg = " netns " + v.NS.target()
	}
	ex.Cmd("ip link add %s%s type veth peer name %s%s%s", explain.Quote(v.Host), mtu, explain.Quote(v.Peer), mac, netnsArg)
	if err := host.LinkAdd(link); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create veth %s: a link named %s or %s already exists", v.Host, v.Host, v.Peer)
		}
		return fmt.Errorf("create veth %s (peer %s): %w", v.Host, v.Peer, err)
	}
	return nil
}

// addAddr assigns an address. With it the kernel also adds the route to
// the address's subnet through this link ("proto kernel scope link").
func addAddr(h *netlink.Handle, ns NS, l netlink.Link, addr *net.IPNet, ex *explain.Printer) error {
	name := l.Attrs().Name
	ex.Cmd("%s addr add %s dev %s", ns.ip(), addr, explain.Quote(name))
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: addr}); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s to %s in %s: already there: %w", addr, name, ns, err)
		}
		return fmt.Errorf("add address %s to %s in %s: %w", addr, name, ns, err)
	}
	return nil
}

// linkUp sets IFF_UP. A veth only carries traffic when both ends are up.
func linkUp(h *netlink.Handle, ns NS, l netlink.Link, ex *explain.Printer) error {
	name := l.Attrs().Name
	ex.Cmd("%s link set %s up", ns.ip(), explain.Quote(name))
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in %s: %w", name, ns, err)
	}
	return nil
}

// loUp brings up the loopback device: a new namespace's lo starts down,
// and then even 127.0.0.1 is unreachable inside it.
func loUp(h *netlink.Handle, ns NS, ex *explain.Printer) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo in %s: %w", ns, err)
	}
	return linkUp(h, ns, lo, ex)
}

// addDefaultRoute sends everything not on a local subnet to the gateway
// (the bridge's address), which must be reachable through l.
func addDefaultRoute(h *netlink.Handle, ns NS, l netlink.Link, gw net.IP, ex *explain.Printer) error {
	ex.Cmd("%s route add default via %s", ns.ip(), gw)
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw}
	if err := h.RouteAdd(r); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return fmt.Errorf("add default route via %s in %s: gateway is not in the subnet of %s", gw, ns, l.Attrs().Name)
		}
		return fmt.Errorf("add default route via %s in %s: %w", gw, ns, err)
	}
	return nil
}

// DeleteLink deletes a link of the caller's namespace. Deleting either
// end of a veth pair deletes both, wherever the other end is.
func DeleteLink(name string, ex *explain.Printer) error {
	return onLink(NS{}, name, "delete link "+name, func(h *netlink.Handle, l netlink.Link) error {
		ex.Cmd("ip link del %s", explain.Quote(name))
		return h.LinkDel(l)
	})
}

// SetLinkDown takes a link of the caller's namespace down (`ip link set
// NAME down`). On one end of a veth pair it cuts the carrier of both, and
// on a bridge port it stops the forwarding at once: far cheaper than
// deleting the link, which waits for the kernel's cleanup of the device.
func SetLinkDown(name string, ex *explain.Printer) error {
	return onLink(NS{}, name, "set link "+name+" down", func(h *netlink.Handle, l netlink.Link) error {
		ex.Cmd("ip link set %s down", explain.Quote(name))
		return h.LinkSetDown(l)
	})
}

// AddAddr assigns addr to the link called name in ns (`ip addr add`).
func AddAddr(ns NS, name string, addr *net.IPNet, ex *explain.Printer) error {
	return onLink(ns, name, "add address to "+name, func(h *netlink.Handle, l netlink.Link) error {
		return addAddr(h, ns, l, addr, ex)
	})
}

// onLink finds the link called name in ns and does one thing to it; an
// error says what (doing) and on which link.
func onLink(ns NS, name, doing string, do func(*netlink.Handle, netlink.Link) error) error {
	h, err := ns.handle()
	if err != nil {
		return fmt.Errorf("%s: netlink: %w", doing, err)
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("%s: %w", doing, notFound(err, name))
	}
	if err := do(h, l); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

func (v Veth) check() error {
	for _, n := range []string{v.Host, v.Peer} {
		if err := checkLinkName(n); err != nil {
			return err
		}
	}
	if v.Host == v.Peer && v.NS.IsCurrent() {
		return fmt.Errorf("create veth %s: both ends cannot have the same name in one namespace", v.Host)
	}
	if v.MTU < 0 || v.MTU > 65535 {
		return fmt.Errorf("create veth %s: invalid MTU %d", v.Host, v.MTU)
	}
	if v.Gateway != nil && v.Addr == nil {
		return fmt.Errorf("create veth %s: a gateway needs an address (--addr) on the same subnet", v.Host)
	}
	if v.Gateway != nil && !v.Addr.Contains(v.Gateway) {
		return fmt.Errorf("create veth %s: gateway %s is outside %s", v.Host, v.Gateway, v.Addr)
	}
	return nil
}

// checkFree refuses names already taken, before anything is created.
func (v Veth) checkFree(host, inside *netlink.Handle) error {
	if _, err := host.LinkByName(v.Host); err == nil {
		return fmt.Errorf("create veth %s: a link named %s already exists", v.Host, v.Host)
	}
	if _, err := inside.LinkByName(v.Peer); err == nil {
		return fmt.Errorf("create veth %s: a link named %s already exists in %s", v.Host, v.Peer, v.NS)
	}
	return nil
}

// checkLinkName applies the kernel's rules for interface names
// (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
// whitespace as the kernel's isspace() sees it, which counts \v, \f, \r
// and the Latin-1 no-break space 0xA0 too. A NUL byte would cut the name
// short in the netlink message, so it is refused as well.
func checkLinkName(name string) error {
	if name == "" || len(name) >= unix.IFNAMSIZ || name == "." || name == ".." ||
		strings.ContainsAny(name, "/: \t\n\v\f\r\x00") || strings.IndexByte(name, 0xa0) >= 0 {
		return fmt.Errorf("invalid link name %q (1 to %d characters, no '/', ':' or spaces)", name, unix.IFNAMSIZ-1)
	}
	return nil
}

func notFound(err error, name string) error {
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("no link named %s", name)
	}
	return err
}

// ParseCIDR parses "ADDR/PREFIX" keeping the address as given (not the
// network address), as `ip addr add` reads it.
func ParseCIDR(s string) (*net.IPNet, error) {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("invalid CIDR %q (want ADDRESS/PREFIX, e.g. 10.0.0.2/24)", s)
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return &net.IPNet{IP: ip, Mask: n.Mask}, nil
}

// LinkExists reports whether a link of that name exists in the calling
// thread's network namespace, as cheaply as the kernel can say it: one
// read of /proc/thread-self/net/dev, which lists the links of the
// reader's namespace (/sys/class/net lists those of whoever mounted
// /sys, and /proc/self/net the main thread's, which need not be this
// thread's).
func LinkExists(name string) bool { return LinkNames()[name] }

// LinkNames are the names of the links in the calling thread's network
// namespace (LinkExists, for several names in one read); none when
// /proc cannot say.
func LinkNames() map[string]bool {
	names := map[string]bool{}
	b, err := os.ReadFile("/proc/thread-self/net/dev")
	if err != nil {
		return names
	}
	for _, line := range strings.Split(string(b), "\n") {
		if n, _, ok := strings.Cut(line, ":"); ok {
			names[strings.TrimSpace(n)] = true
		}
	}
	return names
}

// RouteGateway returns the gateway of ns's default IPv4 route (nil:
// it has none), what `ip route show default` prints.
func RouteGateway(ns NS) (net.IP, error) {
	h, err := ns.handle()
	if err != nil {
		return nil, fmt.Errorf("routes of %s: %w", ns, err)
	}
	defer h.Close()
	routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("routes of %s: %w", ns, err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) && r.Gw != nil {
			return r.Gw, nil
		}
	}
	return nil, nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// AddDefaultRoute gives ns a default route via gw, through the link
// whose subnet holds gw (`ip route add default via GW`): when a
// container loses the network its default route went through, and has
// another, the kernel has deleted the route with the link, and the
// container reaches out through the other network's gateway instead.
func AddDefaultRoute(ns NS, gw net.IP, ex *explain.Printer) error {
	h, err := ns.handle()
	if err != nil {
		return fmt.Errorf("add default route via %s in %s: %w", gw, ns, err)
	}
	defer h.Close()
	ex.Cmd("%s route add default via %s", ns.ip(), gw)
	if err := h.RouteAdd(&netlink.Route{Gw: gw}); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return fmt.Errorf("add default route via %s in %s: no link of it has that gateway's subnet", gw, ns)
		}
		return fmt.Errorf("add default route via %s in %s: %w", gw, ns, err)
	}
	return nil
}
