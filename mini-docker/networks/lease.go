package networks

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/mini-docker/spec"
	"mini-docker/vethctl/ipam"
	"mini-docker/vethctl/network"
)

// A container's address on a network is a lease in the network's pool
// (vethctl's ipam, <root>/network/SUBNET/ADDRESS holding the container's
// ID): the pool's next free address, or the one it asked for with --ip.

// ErrIPNoUserSubnet is Docker's refusal of --ip on a network whose
// subnet was picked from the pool: on another machine, or after a
// network rm and create, the same network may get another subnet.
var ErrIPNoUserSubnet = errors.New("user specified IP address is supported only when connecting to networks with user configured subnets")

// CheckIP refuses an address a container cannot ask for on n (run
// --ip, network connect --ip), in Docker's words: one off a user
// network, on a network without --subnet, or outside the subnet. Whether
// it is free is the pool's to say, when the address is leased.
func (s *Store) CheckIP(n *Network, ip netip.Addr) error {
	prefix, _ := Subnet(n)
	switch {
	case n.Name == Default || modes[n.Name] != nil:
		return spec.ErrIPNotUserNetwork
	case !s.UserSubnet(n):
		return ErrIPNoUserSubnet
	case !prefix.Contains(ip):
		return fmt.Errorf("no configured subnet or ip-range contain the IP address %s", ip)
	}
	return nil
}

// WantedIP is the address ep asks for (nil: any).
func WantedIP(ep *container.EndpointSetting) net.IP {
	if ep == nil || ep.IPAMConfig == nil || !ep.IPAMConfig.IPv4Address.IsValid() {
		return nil
	}
	return ep.IPAMConfig.IPv4Address.AsSlice()
}

// Lease leases id's address in n's pool (WantedIP(ep), or the next
// free one), as `vethctl ipam alloc` prints it; an address asked for
// that another container holds is Docker's "Address already in use".
func (s *Store) Lease(n *Network, id string, ep *container.EndpointSetting, ex *explain.Printer) (*net.IPNet, error) {
	prefix, gw := Subnet(n)
	pool, err := s.pool(n)
	if err != nil {
		return nil, err
	}
	argv := []string{s.vethctl(), "ipam", "alloc", id, "--subnet", prefix.String(), "--gateway", gw.String()}
	want := WantedIP(ep)
	if want != nil {
		argv = append(argv, "--ip", want.String())
	}
	ex.Argv(append(argv, "--root", s.Root)...)
	ip, err := pool.AllocateIP(id, want)
	if errors.Is(err, ipam.ErrInUse) {
		return nil, ipam.ErrInUse
	}
	if err != nil {
		return nil, err
	}
	return pool.CIDR(ip), nil
}

// Release gives id's address (lease, as 172.19.0.5/16) back to its
// pool, as `vethctl ipam release` prints it. A lease that never got its
// address ("pending") is looked for in the default network's pool.
func (s *Store) Release(id, lease string, ex *explain.Printer) error {
	sn := DefaultSubnet
	if _, n, err := net.ParseCIDR(lease); err == nil {
		sn = n.String()
	}
	ex.Argv(s.vethctl(), "ipam", "release", id, "--subnet", sn, "--root", s.Root)
	pool, err := ipam.OpenSubnet(s.Root, sn, "")
	if err == nil {
		err = pool.Release(id)
	}
	return err
}

// HostVethName returns a Docker-style host-side veth name: "veth" and 7
// random hex digits.
func HostVethName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "veth" + hex.EncodeToString(b)[:7]
}

// MACForLease is eth0's MAC for a lease (172.17.0.2/16 ->
// 02:42:ac:11:00:02, network.MACFor); "" without one.
func MACForLease(lease string) string {
	ip, _, err := net.ParseCIDR(lease)
	if err != nil {
		return ""
	}
	return network.MACFor(ip).String()
}

// EnsureBridge makes n's bridge on first use, with vethctl bridge add.
func (s *Store) EnsureBridge(n *Network, ex *explain.Printer) error {
	if network.LinkExists(Bridge(n)) {
		return nil
	}
	prefix, gw := Subnet(n)
	err := toolkit.Run(ex, []string{s.vethctl(), "bridge", "add", Bridge(n), "--addr", fmt.Sprintf("%s/%d", gw, prefix.Bits())})
	if err != nil && network.LinkExists(Bridge(n)) {
		return nil // another run made it at the same moment
	}
	return err
}
