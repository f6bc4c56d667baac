package spec

import (
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
