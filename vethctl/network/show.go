package network

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/vishvananda/netlink"
)

// LinkInfo is one link of a namespace, as `ip -br addr` shows it.
type LinkInfo struct {
	Index  int
	Name   string
	Type   string   // "device" (lo), "veth", "bridge", ...
	Up     bool     // IFF_UP: the administrative state
	Master string   // the bridge it is attached to, if any
	Addrs  []string // IPv4 addresses with prefix
	// Peer is, for a veth, the index of its other end (IFLA_LINK) in
	// the namespace that created the pair; 0 otherwise.
	Peer int
}

// Snapshot is what a namespace holds: links (with IPv4 addresses) and
// its main IPv4 routing table.
type Snapshot struct {
	Links  []LinkInfo
	Routes []string // in `ip route` form
}

// Show reads the links, addresses and routes of ns.
func Show(ns NS) (*Snapshot, error) {
	h, err := ns.handle()
	if err != nil {
		return nil, fmt.Errorf("show %s: %w", ns, err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("show %s: list links: %w", ns, err)
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Attrs().Index < links[j].Attrs().Index })
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	s := &Snapshot{}
	for _, l := range links {
		a := l.Attrs()
		li := LinkInfo{Index: a.Index, Name: a.Name, Type: l.Type(), Up: a.Flags&net.FlagUp != 0, Master: names[a.MasterIndex]}
		if l.Type() == "veth" {
			li.Peer = a.ParentIndex
		}
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return nil, fmt.Errorf("show %s: addresses of %s: %w", ns, a.Name, err)
		}
		for _, ad := range addrs {
			li.Addrs = append(li.Addrs, ad.IPNet.String())
		}
		s.Links = append(s.Links, li)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("show %s: list routes: %w", ns, err)
	}
	for _, r := range routes {
		s.Routes = append(s.Routes, routeString(r, names))
	}
	return s, nil
}

// routeString writes a route the way `ip route` prints it.
func routeString(r netlink.Route, names map[int]string) string {
	var b strings.Builder
	if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gw != nil {
		fmt.Fprintf(&b, " via %s", r.Gw)
	}
	if n := names[r.LinkIndex]; n != "" {
		fmt.Fprintf(&b, " dev %s", n)
	}
	if r.Protocol == 2 { // RTPROT_KERNEL: added by the kernel with an address
		b.WriteString(" proto kernel")
	}
	if r.Scope == netlink.SCOPE_LINK {
		b.WriteString(" scope link")
	}
	if r.Src != nil {
		fmt.Fprintf(&b, " src %s", r.Src)
	}
	return b.String()
}

// Print writes the snapshot as two small tables.
func (s *Snapshot) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINK\tTYPE\tSTATE\tMASTER\tADDRESSES")
	for _, l := range s.Links {
		state, master, addrs := "DOWN", "-", "-"
		if l.Up {
			state = "UP"
		}
		if l.Master != "" {
			master = l.Master
		}
		if len(l.Addrs) > 0 {
			addrs = strings.Join(l.Addrs, " ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Name, l.Type, state, master, addrs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "ROUTES")
	if len(s.Routes) == 0 {
		fmt.Fprintln(w, "(none)")
	}
	for _, r := range s.Routes {
		fmt.Fprintln(w, r)
	}
	return nil
}
