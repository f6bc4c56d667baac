package networks

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/spec"
	"mini-docker/vethctl/ipam"
	"mini-docker/vethctl/network"
)

// network connect and disconnect: a running container gains or loses
// an interface on a network, as Docker's do. The container's first
// network (run's --network) is wired by the engine when it starts, as
// eth0; each network connected later is one more veth pair into the
// same network namespace: eth1, eth2, ..., with an address from that
// network's pool and the route to its subnet only (the default route
// stays with the first network, as in Docker). The host end's name is
// derived from the container and the network, so nothing more is
// recorded than the endpoint Docker shows in NetworkSettings.Networks.

// Docker's refusals (moby's runconfig and daemon errors).
var (
	ErrConflictHostNetwork   = errors.New("container cannot be disconnected from host network or connected to host network")
	ErrConflictSharedNetwork = errors.New("container sharing network namespace with another container or host cannot be connected to any other network")
	ErrConflictNoNetwork     = errors.New("container cannot be connected to multiple networks with one of the networks in private (none) mode")
)

// EndpointOptions are an endpoint's settings: network connect's
// --alias and --ip, run's --network-alias and --ip.
type EndpointOptions struct {
	Aliases []string
	IP      netip.Addr // the address asked for (zero: the pool's next)
}

// PrimaryNetwork is the name of the network c was run on (--network):
// the engine wires it, as eth0, when c starts.
func PrimaryNetwork(c *container.Container) string {
	return c.HostConfig.NetworkMode.NetworkName()
}

// Attached reports whether c holds an address on the network named
// name now: the primary network while the engine's lease stands, a
// connected one while its endpoint has an address.
func Attached(c *container.Container, name string) bool {
	ep := c.NetworkSettings.Networks[name]
	if ep == nil || ep.IPAddress == "" {
		return false
	}
	return name != PrimaryNetwork(c) || c.Runtime.Lease != ""
}

// ConnectedVeth is the host end's name of c's veth on n (not the
// primary network's, which the engine names at random as Docker does).
func ConnectedVeth(c *container.Container, n *Network) string {
	h := fnv.New32a()
	h.Write([]byte(c.ID + n.ID))
	return fmt.Sprintf("veth%07x", h.Sum32()&0xfffffff)
}

// checkConnect refuses what Docker refuses: a container on the host's
// network, one sharing another's namespace, --network none, and the
// host and none networks themselves.
func checkConnect(c *container.Container, n *Network) error {
	mode := c.HostConfig.NetworkMode
	switch {
	case mode.IsHost() || n.Name == "host":
		return ErrConflictHostNetwork
	case mode.IsContainer():
		return ErrConflictSharedNetwork
	case mode.IsNone() || n.Name == "none":
		return ErrConflictNoNetwork
	}
	if _, ok := c.NetworkSettings.Networks[n.Name]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network %s", strings.TrimPrefix(c.Name, "/"), n.Name)
	}
	return nil
}

// Connect attaches c to n. A running c gets its interface now (Wire);
// a stopped one has the endpoint recorded, and gets it when it starts.
// The caller holds c's lock. c is saved under the lock network rm takes,
// after n is found still there: a connect and an rm of one network are
// one after the other, as Docker serialises them (the connect fails
// with not found, or the rm with active endpoints).
func (s *Store) Connect(cs *container.Store, c *container.Container, n *Network, o EndpointOptions, ex *explain.Printer) error {
	if err := checkConnect(c, n); err != nil {
		return err
	}
	if err := checkEndpoint(o); err != nil {
		return err
	}
	unlock, err := s.lock("networks.lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(s.dir(), n.ID+".json")); !builtin[n.Name] && errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Ref: n.Name}
	}
	if err := s.connect(cs, c, n, o, ex); err != nil {
		return err
	}
	return cs.Save(c)
}

// connect is Connect once n is known to be there.
func (s *Store) connect(cs *container.Store, c *container.Container, n *Network, o EndpointOptions, ex *explain.Printer) error {
	if o.IP.IsValid() {
		if err := s.CheckIP(n, o.IP); err != nil {
			return err
		}
	}
	if c.NetworkSettings.Networks == nil {
		c.NetworkSettings.Networks = map[string]*container.EndpointSetting{}
	}
	ep := &container.EndpointSetting{NetworkID: n.ID, Aliases: o.Aliases}
	if o.IP.IsValid() {
		ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: o.IP}
	}
	c.NetworkSettings.Networks[n.Name] = ep
	if !c.State.Running || c.Runtime.Netns == "" {
		return nil
	}
	if err := s.Wire(cs, c, n, ex); err != nil {
		delete(c.NetworkSettings.Networks, n.Name)
		return err
	}
	return nil
}

// checkEndpoint checks the aliases, names /etc/hosts can carry.
func checkEndpoint(o EndpointOptions) error {
	for _, a := range o.Aliases {
		if err := spec.CheckAlias(a); err != nil {
			return err
		}
	}
	return nil
}

// pool opens n's address pool (vethctl's, under <root>/network).
func (s *Store) pool(n *Network) (*ipam.Pool, error) {
	prefix, gw := Subnet(n)
	sn := &net.IPNet{IP: prefix.Addr().AsSlice(), Mask: net.CIDRMask(prefix.Bits(), 32)}
	return ipam.OpenPool(s.Root, sn, gw.AsSlice())
}

// Wire gives running c its interface on n, whose endpoint c records:
// an address from n's pool, n's bridge (made on first use), a veth
// pair with the next free ethN in c's namespace, then the firewall's
// rules and the names of n's members. Whatever was made is undone on
// failure.
func (s *Store) Wire(cs *container.Store, c *container.Container, n *Network, ex *explain.Printer) (err error) {
	ep := c.NetworkSettings.Networks[n.Name]
	prefix, gw := Subnet(n)
	pool, err := s.pool(n)
	if err != nil {
		return err
	}
	addr, err := s.Lease(n, c.ID, ep, ex)
	if err != nil {
		return err
	}
	ip := addr.IP
	defer func() {
		if err != nil {
			pool.Release(c.ID)
		}
	}()
	brAddr := &net.IPNet{IP: gw.AsSlice(), Mask: net.CIDRMask(prefix.Bits(), 32)}
	_, newBridge, err := network.EnsureBridge(Bridge(n), brAddr, ex)
	if err != nil {
		return err
	}
	peer, err := freeEth(c.Runtime.Netns)
	if err != nil {
		return err
	}
	v := network.Veth{Host: ConnectedVeth(c, n), Peer: peer, NS: network.Named(c.Runtime.Netns), Addr: pool.CIDR(ip), PeerMAC: network.MACFor(ip), Bridge: Bridge(n)}
	ex.Argv(s.vethctl(), "create", v.Host, v.Peer, "--netns", c.Runtime.Netns, "--addr", v.Addr.String(), "--mac", v.PeerMAC.String(), "--bridge", v.Bridge)
	undo, err := network.CreateVeth(v, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	ep.IPAddress, ep.IPPrefixLen, ep.Gateway, ep.MacAddress = ip.String(), prefix.Bits(), gw.String(), v.PeerMAC.String()
	if n.Name == PrimaryNetwork(c) {
		// The network c was run on, connected again after a disconnect:
		// the engine's lease and veth stand for it again, so that its
		// members learn c's name (Attached) and c's stop gives the
		// address back, as after a start.
		c.Runtime.HostVeth, c.Runtime.Lease = v.Host, addr.String()
	}
	if newBridge { // a new bridge: its rules
		if err = s.SyncFirewall(ex); err != nil {
			return err
		}
	}
	if err = keepDefaultRoute(c, ex); err != nil {
		return err
	}
	return s.UpdateHosts(cs, n, c, false, ex)
}

// keepDefaultRoute gives running c's namespace a default route if it has
// none: through the gateway of the first network (by name) c holds an
// address on, as Docker picks its gateway endpoint. The route goes with
// the interface it went through: when c is disconnected from its first
// network, its next one takes over, and a container left without any
// gets one from the network connected next.
func keepDefaultRoute(c *container.Container, ex *explain.Printer) error {
	if c.Runtime.Netns == "" {
		return nil
	}
	ns := network.Named(c.Runtime.Netns)
	if gw, err := network.RouteGateway(ns); err != nil || gw != nil {
		return err
	}
	names := make([]string, 0, len(c.NetworkSettings.Networks))
	for name := range c.NetworkSettings.Networks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if gw := net.ParseIP(c.NetworkSettings.Networks[name].Gateway); gw != nil && Attached(c, name) {
			return network.AddDefaultRoute(ns, gw, ex)
		}
	}
	return nil
}

// freeEth is the lowest ethN that the namespace has no link of.
func freeEth(netns string) (string, error) {
	var names []string
	err := network.Named(netns).Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("list the links of %s: %w", netns, err)
	}
	for i := 0; ; i++ {
		if name := fmt.Sprintf("eth%d", i); !slices.Contains(names, name) {
			return name, nil
		}
	}
}

// Disconnect detaches c from n: its interface goes (the veth, the
// address back to the pool), the other members forget its name, and
// the endpoint is no longer recorded. The caller holds c's lock and
// saves c.
func (s *Store) Disconnect(cs *container.Store, c *container.Container, n *Network, ex *explain.Printer) error {
	if c.HostConfig.NetworkMode.IsHost() || n.Name == "host" {
		return ErrConflictHostNetwork
	}
	if _, ok := c.NetworkSettings.Networks[n.Name]; !ok {
		return fmt.Errorf("container %s is not connected to network %s", c.ID, n.Name)
	}
	attached := Attached(c, n.Name)
	veth := ConnectedVeth(c, n)
	if n.Name == PrimaryNetwork(c) {
		veth = c.Runtime.HostVeth
	}
	var errs []error
	if attached {
		errs = append(errs, s.unwire(c, n, veth, ex))
	}
	delete(c.NetworkSettings.Networks, n.Name)
	if n.Name == PrimaryNetwork(c) {
		c.Runtime.HostVeth, c.Runtime.Lease = "", ""
		if n.Name == Default {
			c.NetworkSettings.IPAddress, c.NetworkSettings.Gateway, c.NetworkSettings.IPPrefixLen, c.NetworkSettings.MacAddress = "", "", 0, ""
		}
	}
	if attached {
		errs = append(errs, s.UpdateHosts(cs, n, c, true, ex))
	}
	if attached && c.State.Running {
		errs = append(errs, keepDefaultRoute(c, ex))
	}
	return errors.Join(errs...)
}

// unwire deletes c's veth on n (its end inside goes with it) and
// returns its address to n's pool.
func (s *Store) unwire(c *container.Container, n *Network, veth string, ex *explain.Printer) error {
	if _, err := net.InterfaceByName(veth); err == nil && veth != "" {
		ex.Argv(s.vethctl(), "delete", veth)
		if err := network.DeleteLink(veth, nil); err != nil {
			return err
		}
	}
	pool, err := s.pool(n)
	if err != nil {
		return err
	}
	prefix, _ := Subnet(n)
	ex.Argv(s.vethctl(), "ipam", "release", c.ID, "--subnet", prefix.String(), "--root", s.Root)
	return pool.Release(c.ID)
}

// ReleaseConnected undoes the interfaces of the networks c was
// connected to after it started (the engine releases the primary
// one's): when c stops, each goes, and its endpoint stays recorded
// without an address, to be wired again at the next start.
func (s *Store) ReleaseConnected(cs *container.Store, c *container.Container, ex *explain.Printer) error {
	var errs []error
	for _, name := range connectedNames(c) {
		ep := c.NetworkSettings.Networks[name]
		if ep.IPAddress == "" {
			continue
		}
		n, err := s.Find(name)
		if err != nil {
			ep.IPAddress = "" // the network is gone, and its pool with it
			continue
		}
		if err := s.unwire(c, n, ConnectedVeth(c, n), ex); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.UpdateHosts(cs, n, c, true, ex))
		ep.IPAddress, ep.IPPrefixLen, ep.Gateway, ep.MacAddress = "", 0, "", ""
	}
	return errors.Join(errs...)
}

// WireConnected wires, at c's start, the networks connected to it
// before (a network removed meanwhile is forgotten, as Docker forgets it).
func (s *Store) WireConnected(cs *container.Store, c *container.Container, ex *explain.Printer) error {
	for _, name := range connectedNames(c) {
		n, err := s.Find(name)
		if err != nil {
			delete(c.NetworkSettings.Networks, name)
			continue
		}
		if err := s.Wire(cs, c, n, ex); err != nil {
			return fmt.Errorf("connect to network %s: %w", name, err)
		}
	}
	return nil
}

// connectedNames are c's networks but the primary one, by name.
func connectedNames(c *container.Container) []string {
	var out []string
	for name := range c.NetworkSettings.Networks {
		if name != PrimaryNetwork(c) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
