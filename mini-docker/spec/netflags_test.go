package spec

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"unicode"
)

// The /etc files' flags refused in the Docker CLI's words.
func TestNameFlagsBadInput(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{DNS: []string{"foo"}}, `invalid argument "foo" for "--dns" flag: IP address is not correctly formatted: foo`},
		{Options{AddHost: []string{"foo"}}, `invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo"`},
		{Options{AddHost: []string{"foo:bar"}}, `invalid argument "foo:bar" for "--add-host" flag: invalid IP address in add-host: "bar"`},
		{Options{AddHost: []string{":1.2.3.4"}}, `bad format for add-host: ":1.2.3.4"`},
		{Options{DNSSearch: []string{"-bad-.example"}}, `-bad-.example is not a valid domain`},
		{Options{Network: "container:db", DNS: []string{"1.1.1.1"}}, "conflicting options: dns and the network mode"},
		{Options{Network: "container:db", AddHost: []string{"a:1.2.3.4"}}, "conflicting options: custom host-to-IP mapping and the network mode"},
		{Options{Network: "app", IP: "foo"}, "invalid IPv4 address: foo"},
		{Options{Network: "app", IP: "2001:db8::5"}, "invalid IPv4 address: 2001:db8::5"},
		{Options{Network: "app", IP: "0.0.0.0"}, "invalid IPv4 address: 0.0.0.0"},
		{Options{Network: "bridge", IP: "172.18.0.9"}, "user specified IP address is supported on user defined networks only"},
		{Options{Network: "none", IP: "172.18.0.9"}, "user specified IP address is supported on user defined networks only"},
		{Options{Network: "app", MacAddress: "92:d0:c6:0a:29"}, "92:d0:c6:0a:29 is not a valid mac address"},
		{Options{Network: "app", MacAddress: "93:d0:c6:0a:29:33"}, "93:d0:c6:0a:29:33 is not a valid mac address"}, // multicast
		{Options{Network: "app", MacAddress: "00:00:00:00:00:00"}, "00:00:00:00:00:00 is not a valid mac address"},
		{Options{Network: "none", MacAddress: "92:d0:c6:0a:29:33"}, "conflicting options: mac-address and the network mode"},
		{Options{Network: "host", MacAddress: "92:d0:c6:0a:29:33"}, "conflicting options: mac-address and the network mode"},
		{Options{Network: "container:db", MacAddress: "92:d0:c6:0a:29:33"}, "conflicting options: mac-address and the network mode"},
	} {
		_, err := c.o.HostConfig()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
	hc, err := (&Options{Network: "bridge", DNS: []string{"9.9.9.9", "2001:db8::1"}, DNSSearch: []string{"a.example", "."},
		DNSOptions: []string{"ndots:2"}, AddHost: []string{"h:host-gateway", "v6:2001:db8::2"}}).HostConfig()
	if err != nil || len(hc.DNS) != 2 || hc.DNS[1] != netip.MustParseAddr("2001:db8::1") || len(hc.ExtraHosts) != 2 || hc.DNSOptions[0] != "ndots:2" {
		t.Errorf("good flags: %v %+v", err, hc)
	}
}

// resolv.conf as Docker writes it: each flag replaces the host's lines
// of its kind, the others are kept.
func TestBuildResolvConf(t *testing.T) {
	host := []byte("# from the host\nsearch corp.example\nnameserver 10.0.0.53\noptions edns0\n")
	nine := []netip.Addr{netip.MustParseAddr("9.9.9.9")}
	for _, c := range []struct {
		dns             []netip.Addr
		search, options []string
		want            string
	}{
		{nil, nil, nil, string(host)},
		{nine, nil, nil, "search corp.example\nnameserver 9.9.9.9\noptions edns0\n"},
		{nil, []string{"a.example", "b.example"}, []string{"ndots:2"}, "search a.example b.example\nnameserver 10.0.0.53\noptions ndots:2\n"},
		{nine, []string{"."}, nil, "nameserver 9.9.9.9\noptions edns0\n"},
	} {
		if got := string(BuildResolvConf(host, c.dns, c.search, c.options)); got != c.want {
			t.Errorf("BuildResolvConf(%v, %v, %v) = %q, want %q", c.dns, c.search, c.options, got, c.want)
		}
	}
}

// FuzzExtraHosts: an --add-host value that passes the check makes one
// /etc/hosts line whose first field is an address (host-gateway's
// included) and whose second is the name, nothing else.
func FuzzExtraHosts(f *testing.F) {
	for _, s := range []string{"db:10.0.0.2", "gw:host-gateway", "v6:2001:db8::1", "foo", ":1.2.3.4", "a b:1.2.3.4", "x:1.2.3.4\n5.6.7.8 y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if CheckExtraHosts([]string{v}) != nil {
			return
		}
		line := ExtraHostLines([]string{v}, "172.18.0.1")
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if strings.Count(line, "\n") != 1 || len(f) != 2 || f[1] == "" || strings.IndexFunc(f[1], unicode.IsSpace) >= 0 || strings.Contains(f[1], "#") {
			t.Fatalf("%q gives the line %q", v, line)
		}
		if _, err := netip.ParseAddr(f[0]); err != nil {
			t.Fatalf("%q gives the address %q: %v", v, f[0], err)
		}
	})
}

// FuzzDNSSearch: a domain that passes the check is recorded as one
// word that resolv.conf's search line can hold.
func FuzzDNSSearch(f *testing.F) {
	for _, s := range []string{"a.example", ".", "example.", "-bad", "a..b", "a b", "a.example \n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := ParseDNSSearch([]string{v})
		if err != nil {
			return
		}
		if len(got) != 1 || got[0] == "" || strings.ContainsAny(got[0], " \t\n\r\f\v#;") {
			t.Fatalf("%q is recorded as %q, which would break the search line", v, got)
		}
	})
}

// FuzzMACAddress: a --mac-address that passes the check is six bytes
// that an Ethernet device takes (unicast, not zero), and prints back in
// a form the check reads again as the same address.
func FuzzMACAddress(f *testing.F) {
	for _, s := range []string{"92:d0:c6:0a:29:33", "02-42-ac-11-00-02", "0242.ac11.0002", "93:d0:c6:0a:29:33", "00:00:00:00:00:00", "00:00:5e:00:53:01:02:03", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		mac, err := ParseMAC(v)
		if err != nil {
			return
		}
		if len(mac) != 6 || mac[0]&1 != 0 || mac.String() == "00:00:00:00:00:00" {
			t.Fatalf("%q passed as %s", v, mac)
		}
		again, err := ParseMAC(mac.String())
		if err != nil || again.String() != mac.String() {
			t.Fatalf("%q -> %s -> %v, %v", v, mac, again, err)
		}
	})
}

// FuzzEndpointIP: an --ip that passes is an IPv4 address other than
// 0.0.0.0, printed as the kernel and the pool's lease files name it.
func FuzzEndpointIP(f *testing.F) {
	for _, s := range []string{"172.30.0.5", "::ffff:10.0.0.1", "0.0.0.0", "2001:db8::1", "10.0.0.1%eth0", "010.0.0.1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, err := ParseEndpointIP(v)
		if err != nil {
			return
		}
		if !a.Is4() || a.IsUnspecified() || a.Zone() != "" {
			t.Fatalf("%q passed as %s", v, a)
		}
		if b := net.ParseIP(a.String()).To4(); b == nil || b.String() != a.String() {
			t.Fatalf("%q passed as %s, which net.ParseIP reads as %v", v, a, b)
		}
	})
}
