package networks

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/vethctl/network"
)

// validName is Docker's rule for network names.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`) })

// builtin are the names Docker keeps for its own networks.
var builtin = map[string]bool{Default: true, "host": true, "none": true, "default": true}

// CreateOptions are `network create`'s flags.
type CreateOptions struct {
	Name    string
	Subnet  string // CIDR, "" = the first free one of the pool
	Gateway string // "" = the subnet's first address
	Labels  map[string]string
}

// Create records a new bridge network. Its subnet is --subnet, or the
// first /16 of 172.19-31 (Docker's pool) that no network of ours and no
// address of this namespace's links overlaps. The bridge itself is made
// when the first container joins.
func (s *Store) Create(o CreateOptions) (*Network, error) {
	if !validName().MatchString(o.Name) || len(o.Name) > 128 {
		return nil, fmt.Errorf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", o.Name)
	}
	if builtin[o.Name] {
		return nil, fmt.Errorf("operation is not permitted on predefined %s network", o.Name)
	}
	unlock, err := s.lock("networks.lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		if n.Name == o.Name {
			return nil, fmt.Errorf("network with name %s already exists", o.Name)
		}
	}
	subnet, gw, err := pickSubnet(o, all)
	if err != nil {
		return nil, err
	}
	id := newID()
	n := &Network{Name: o.Name, ID: id, Created: now(), Scope: "local", Driver: "bridge", EnableIPv4: true,
		IPAM:    mobynet.IPAM{Driver: "default", Options: map[string]string{}, Config: []mobynet.IPAMConfig{{Subnet: subnet, Gateway: gw}}},
		Options: map[string]string{BridgeOption: "mdbr-" + id[:10]}, Labels: o.Labels}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	return n, s.save(n, o.Subnet != "")
}

// pickSubnet checks --subnet/--gateway, or picks a free subnet.
func pickSubnet(o CreateOptions, all []*Network) (netip.Prefix, netip.Addr, error) {
	var taken []netip.Prefix
	for _, n := range all {
		if p, _ := Subnet(n); p.IsValid() {
			taken = append(taken, p)
		}
	}
	if o.Subnet == "" {
		if o.Gateway != "" {
			return netip.Prefix{}, netip.Addr{}, fmt.Errorf("--gateway needs --subnet")
		}
		taken = append(taken, linkPrefixes()...)
		for i := 19; i <= 31; i++ {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16)
			if !overlapsAny(p, taken) {
				return p, p.Addr().Next(), nil
			}
		}
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
	}
	p, err := netip.ParsePrefix(o.Subnet)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid subnet %s: want an IPv4 CIDR such as 10.1.0.0/24", o.Subnet)
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid subnet %s: too small (a /%d has no address for a container)", o.Subnet, p.Bits())
	}
	p = p.Masked()
	if overlapsAny(p, taken) {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid pool request: Pool overlaps with other one on this address space")
	}
	gw := p.Addr().Next()
	if o.Gateway != "" {
		if gw, err = netip.ParseAddr(o.Gateway); err != nil || !p.Contains(gw) {
			return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid gateway %s: not an address of %s", o.Gateway, p)
		}
		if gw == p.Addr() || gw == broadcast(p) {
			// The subnet's own address and its broadcast are no host's.
			return netip.Prefix{}, netip.Addr{}, fmt.Errorf("failed to allocate gateway (%s): Address already in use", gw)
		}
	}
	return p, gw, nil
}

// broadcast is the last address of the IPv4 subnet p.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func overlapsAny(p netip.Prefix, taken []netip.Prefix) bool {
	for _, t := range taken {
		if t.Overlaps(p) {
			return true
		}
	}
	return false
}

// linkPrefixes are the IPv4 subnets of this namespace's links: a
// network there would shadow the host's own routes.
func linkPrefixes() []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			ones, _ := ipn.Mask.Size()
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			out = append(out, netip.PrefixFrom(ip, ones).Masked())
		}
	}
	return out
}

// Members are the containers of the state root attached to n that hold
// their address now, with their endpoint on n.
func Members(cs *container.Store, n *Network) ([]*container.Container, error) {
	all, _, err := cs.List()
	if err != nil {
		return nil, err
	}
	var out []*container.Container
	for _, c := range all {
		if Attached(c, n.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Remove deletes n's record, its bridge if this namespace has it (and
// with it, its firewall rules), and its address pool's folder. It
// refuses while containers are attached (running or not), as Docker
// does.
func (s *Store) Remove(cs *container.Store, n *Network, ex *explain.Printer) error {
	if err := s.remove(cs, n, ex); err != nil {
		return err
	}
	return s.SyncFirewall(ex)
}

// remove is Remove without the firewall's sync: prune syncs once, after
// the networks it removes.
func (s *Store) remove(cs *container.Store, n *Network, ex *explain.Printer) error {
	if builtin[n.Name] {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name)
	}
	unlock, err := s.lock("networks.lock")
	if err != nil {
		return err
	}
	defer unlock()
	all, _, err := cs.List()
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.HostConfig.NetworkMode.NetworkName() == n.Name || c.NetworkSettings.Networks[n.Name] != nil {
			return fmt.Errorf("error while removing network: network %s id %s has active endpoints (name:%q id:%q)", n.Name, n.ID, strings.TrimPrefix(c.Name, "/"), container.ShortID(c.ID))
		}
	}
	if _, err := net.InterfaceByName(Bridge(n)); err == nil {
		if err := network.DeleteBridge(Bridge(n), ex); err != nil {
			return err
		}
	}
	if p, _ := Subnet(n); p.IsValid() {
		os.RemoveAll(filepath.Join(s.Root, "network", p.Addr().String()+"-"+fmt.Sprint(p.Bits())))
	}
	return os.Remove(filepath.Join(s.dir(), n.ID+".json"))
}
