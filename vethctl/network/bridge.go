package network

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// mini-docker's default network, Docker's docker0 moved to a subnet of
// its own so the two can run side by side.
const (
	DefaultBridge  = "mini-docker0"
	DefaultSubnet  = "172.18.0.0/16"
	DefaultGateway = "172.18.0.1"
)

// DefaultBridgeAddr returns the default bridge's address with its
// prefix, 172.18.0.1/16: the gateway of every container.
func DefaultBridgeAddr() *net.IPNet {
	return &net.IPNet{IP: net.ParseIP(DefaultGateway).To4(), Mask: net.CIDRMask(16, 32)}
}

// AddBridge creates a bridge in the caller's namespace, gives it addr
// (optional) and brings it up, like `ip link add NAME type bridge`. It
// fails when a link of that name exists, and returns how to delete it.
//
// A bridge is a switch: it learns which MAC address sits behind which
// attached port and forwards frames between them. Its own address makes
// the host one more station on that switch, the containers' gateway.
func AddBridge(name string, addr *net.IPNet, ex *explain.Printer) (undo func() error, err error) {
	if err := checkLinkName(name); err != nil {
		return nil, err
	}
	h, err := NS{}.handle()
	if err != nil {
		return nil, fmt.Errorf("add bridge %s: netlink: %w", name, err)
	}
	defer h.Close()
	if _, err := h.LinkByName(name); err == nil {
		return nil, fmt.Errorf("add bridge %s: a link named %s already exists", name, name)
	}
	ex.Cmd("ip link add %s type bridge", explain.Quote(name))
	la := netlink.NewLinkAttrs()
	la.Name = name
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("add bridge %s: a link named %s already exists", name, name)
		}
		return nil, fmt.Errorf("add bridge %s: %w", name, err)
	}
	remove := func() error { return DeleteLink(name, nil) }
	defer func() {
		if err != nil {
			remove()
		}
	}()
	br, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("add bridge %s: %w", name, err)
	}
	if addr != nil {
		if err = addAddr(h, NS{}, br, addr, ex); err != nil {
			return nil, err
		}
	}
	if err = linkUp(h, NS{}, br, ex); err != nil {
		return nil, err
	}
	return remove, nil
}

// EnsureBridge makes sure a bridge called name exists, is up and holds
// addr, creating only what is missing, as mini-docker does before each
// container. created tells whether the bridge was made by this call
// (then undo deletes it; otherwise undo does nothing).
func EnsureBridge(name string, addr *net.IPNet, ex *explain.Printer) (undo func() error, created bool, err error) {
	h, err := NS{}.handle()
	if err != nil {
		return nil, false, fmt.Errorf("bridge %s: netlink: %w", name, err)
	}
	defer h.Close()
	br, err := h.LinkByName(name)
	if err != nil {
		undo, err := AddBridge(name, addr, ex)
		if _, again := h.LinkByName(name); err != nil && again == nil {
			// Another process made it between our look and our add.
			return EnsureBridge(name, addr, ex)
		}
		return undo, err == nil, err
	}
	if br.Type() != "bridge" {
		return nil, false, fmt.Errorf("bridge %s: a link of that name exists but is a %s", name, br.Type())
	}
	if addr != nil {
		addrs, err := h.AddrList(br, netlink.FAMILY_V4)
		if err != nil {
			return nil, false, fmt.Errorf("bridge %s: list addresses: %w", name, err)
		}
		if !hasAddr(addrs, addr) {
			if err := addAddr(h, NS{}, br, addr, ex); err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, false, err
			}
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := linkUp(h, NS{}, br, ex); err != nil {
			return nil, false, err
		}
	}
	return func() error { return nil }, false, nil
}

// DeleteBridge deletes a bridge; the links attached to it stay, detached.
func DeleteBridge(name string, ex *explain.Printer) error {
	h, err := NS{}.handle()
	if err != nil {
		return fmt.Errorf("delete bridge %s: netlink: %w", name, err)
	}
	defer h.Close()
	if _, err := lookupBridge(h, name); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return DeleteLink(name, ex)
}

// Attach plugs a link of the caller's namespace into a bridge (`ip link
// set LINK master BR`): from then on the bridge switches its frames.
func Attach(bridge, link string, ex *explain.Printer) error {
	h, err := NS{}.handle()
	if err != nil {
		return fmt.Errorf("attach %s to %s: netlink: %w", link, bridge, err)
	}
	defer h.Close()
	br, err := lookupBridge(h, bridge)
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", link, bridge, err)
	}
	l, err := h.LinkByName(link)
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", link, bridge, notFound(err, link))
	}
	return setMaster(h, l, br, ex)
}

func setMaster(h *netlink.Handle, l, br netlink.Link, ex *explain.Printer) error {
	ex.Cmd("ip link set %s master %s", explain.Quote(l.Attrs().Name), explain.Quote(br.Attrs().Name))
	if err := h.LinkSetMaster(l, br); err != nil {
		return fmt.Errorf("attach %s to bridge %s: %w", l.Attrs().Name, br.Attrs().Name, err)
	}
	return nil
}

// lookupBridge finds a link and checks that it is a bridge.
func lookupBridge(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("no bridge named %s", name)
	}
	if l.Type() != "bridge" {
		return nil, fmt.Errorf("%s is a %s, not a bridge", name, l.Type())
	}
	return l, nil
}

func hasAddr(addrs []netlink.Addr, want *net.IPNet) bool {
	for _, a := range addrs {
		if a.IPNet != nil && a.IP.Equal(want.IP) && a.Mask.String() == want.Mask.String() {
			return true
		}
	}
	return false
}
