package ipam

import (
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
