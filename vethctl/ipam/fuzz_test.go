package ipam

import (
	"errors"
	"net"
	"testing"

	"mini-docker/vethctl/network"
)

// FuzzAddressPool checks the IPAM's input: ParseCIDR and OpenPool on
// any subnet and gateway must not panic, and a pool that opens hands out
// an address inside its subnet that is neither the network address, the
// broadcast address nor the gateway.
func FuzzAddressPool(f *testing.F) {
	for _, s := range [][2]string{
		{"172.18.0.0/16", ""}, {"10.0.0.0/30", "10.0.0.2"}, {"10.0.0.0/31", ""}, {"0.0.0.0/0", "0.0.0.1"},
		{"10.0.0.7/24", "10.0.0.255"}, {"::ffff:10.0.0.0/120", ""}, {"fd00::/64", ""}, {"10.0.0.0/24", "10.0.1.1"},
		{"10.0.0.0/33", ""}, {"300.0.0.0/8", ""},
	} {
		f.Add(s[0], s[1])
	}
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, cidr, gw string) {
		sn, err := network.ParseCIDR(cidr)
		if err != nil {
			return
		}
		var gateway net.IP
		if gw != "" {
			if gateway = net.ParseIP(gw); gateway == nil {
				return
			}
		}
		p, err := OpenPool(root, sn, gateway)
		if err != nil {
			return
		}
		ones, bits := p.Subnet().Mask.Size()
		if bits != 32 || ones > 30 || !p.Subnet().Contains(p.Gateway()) {
			t.Fatalf("pool %s with gateway %s opened", p.Subnet(), p.Gateway())
		}
		ip, err := p.Allocate("fuzz")
		if err != nil {
			t.Fatalf("pool %s: %v", p.Subnet(), err)
		}
		network := p.Subnet().IP.To4()
		broadcast := u32ToIP(ipToU32(network) | ^ipToU32(net.IP(p.Subnet().Mask)))
		if !p.Subnet().Contains(ip) || ip.Equal(network) || ip.Equal(broadcast) || ip.Equal(p.Gateway()) {
			t.Fatalf("pool %s (gateway %s) handed out %s", p.Subnet(), p.Gateway(), ip)
		}
		if err := p.Release("fuzz"); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzAllocateIP checks docker run --ip's path into the pool: a chosen
// address is leased only if it is inside the subnet and neither the
// network, broadcast nor gateway address, and then it is exactly the
// one asked for; a second ID asking for it is refused with ErrInUse.
func FuzzAllocateIP(f *testing.F) {
	for _, s := range [][2]string{
		{"10.5.0.0/24", "10.5.0.9"}, {"10.5.0.0/24", "10.5.0.1"}, {"10.5.0.0/24", "10.5.0.0"}, {"10.5.0.0/24", "10.5.0.255"},
		{"10.5.0.0/24", "10.6.0.9"}, {"10.5.0.0/30", "10.5.0.2"}, {"172.18.0.0/16", "::1"}, {"172.18.0.0/16", "172.18.255.254"},
	} {
		f.Add(s[0], s[1])
	}
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, cidr, addr string) {
		sn, err := network.ParseCIDR(cidr)
		want := net.ParseIP(addr)
		if err != nil || want == nil {
			return
		}
		p, err := OpenPool(root, sn, nil)
		if err != nil {
			return
		}
		defer p.Release("a")
		ip, err := p.AllocateIP("a", want)
		network := p.Subnet().IP.To4()
		broadcast := u32ToIP(ipToU32(network) | ^ipToU32(net.IP(p.Subnet().Mask)))
		usable := want.To4() != nil && p.Subnet().Contains(want) && !want.Equal(network) && !want.Equal(broadcast) && !want.Equal(p.Gateway())
		if err != nil {
			if usable {
				t.Fatalf("pool %s refused %s: %v", p.Subnet(), want, err)
			}
			if !errors.Is(err, ErrOutOfRange) && !errors.Is(err, ErrInUse) {
				t.Fatalf("pool %s refused %s with %v, want ErrOutOfRange or ErrInUse", p.Subnet(), want, err)
			}
			return
		}
		if !usable || !ip.Equal(want) {
			t.Fatalf("pool %s (gateway %s) asked for %s leased %s", p.Subnet(), p.Gateway(), want, ip)
		}
		if _, err := p.AllocateIP("b", want); !errors.Is(err, ErrInUse) {
			t.Fatalf("pool %s: a second ID asking for %s got %v, want ErrInUse", p.Subnet(), want, err)
		}
	})
}
