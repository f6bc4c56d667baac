package spec

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"mini-docker/mini-docker/container"
)

// The run flags that write the container's /etc/resolv.conf and
// /etc/hosts (lesson 12): --dns, --dns-search, --dns-option and
// --add-host, checked as Docker's CLI checks them (its opts package).

// HostGateway is --add-host's special address: the host as the
// containers of the default bridge reach it (Docker's host-gateway).
const HostGateway = "host-gateway"

// parseNames checks the flags of the /etc files: --dns's addresses and
// --dns-search's domains as they are recorded.
func (o *Options) parseNames() ([]netip.Addr, []string, error) {
	dns, err := ParseDNS(o.DNS)
	if err != nil {
		return nil, nil, err
	}
	search, err := ParseDNSSearch(o.DNSSearch)
	if err != nil {
		return nil, nil, err
	}
	return dns, search, CheckExtraHosts(o.AddHost)
}

// ParseDNS reads --dns values: IP addresses.
func ParseDNS(vals []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, v := range vals {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || a.Zone() != "" {
			return nil, flagErr(v, "--dns", "IP address is not correctly formatted: %s", v)
		}
		out = append(out, a)
	}
	return out, nil
}

// domainRE is Docker's rule for a search domain (opts.validateDomain),
// compiled at its first use: every command pays for what runs at start-up.
var domainRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(:?(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))(:?\.(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$`)
})

// ParseDNSSearch reads --dns-search values: domains (kept without a
// final dot or trailing blanks, as Docker keeps them), or "." for none.
func ParseDNSSearch(vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		if v == "." {
			out = append(out, v)
			continue
		}
		m := domainRE().FindStringSubmatch(v)
		if len(m) == 0 || len(m[1]) >= 255 {
			return nil, flagErr(v, "--dns-search", "%s is not a valid domain", v)
		}
		out = append(out, m[1])
	}
	return out, nil
}

// CheckExtraHosts checks --add-host values, NAME:IP (the first colon
// splits, so that IP may be IPv6) or NAME:host-gateway.
func CheckExtraHosts(vals []string) error {
	for _, v := range vals {
		// A name with a blank or a # would not be one name in /etc/hosts.
		name, ip, ok := strings.Cut(v, ":")
		if !ok || name == "" || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, "#") {
			return flagErr(v, "--add-host", "bad format for add-host: %q", v)
		}
		if ip == HostGateway {
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(ip)); err != nil || a.Zone() != "" {
			return flagErr(v, "--add-host", "invalid IP address in add-host: %q", ip)
		}
	}
	return nil
}

// ExtraHostLines are /etc/hosts lines for --add-host values ("IP\tNAME"),
// with host-gateway as gateway.
func ExtraHostLines(vals []string, gateway string) string {
	var b strings.Builder
	for _, v := range vals {
		name, ip, _ := strings.Cut(v, ":")
		if ip == HostGateway {
			ip = gateway
		}
		fmt.Fprintf(&b, "%s\t%s\n", strings.TrimSpace(ip), name)
	}
	return b.String()
}

// BuildResolvConf is a container's /etc/resolv.conf from base (the
// host's, its loopback servers dropped): --dns, --dns-search and
// --dns-option each replace base's lines of their kind, and the file is
// written anew as Docker writes it (libnetwork's resolvconf.Build:
// search, nameservers, options); without them, base as it is.
func BuildResolvConf(base []byte, dns []netip.Addr, search, options []string) []byte {
	if len(dns)+len(search)+len(options) == 0 {
		return base
	}
	var servers, hostSearch, hostOptions []string
	for _, line := range strings.Split(string(base), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) < 2:
		case f[0] == "nameserver":
			servers = append(servers, f[1])
		case f[0] == "search" || f[0] == "domain":
			hostSearch = f[1:]
		case f[0] == "options":
			hostOptions = append(hostOptions, f[1:]...)
		}
	}
	if len(dns) > 0 {
		servers = servers[:0]
		for _, a := range dns {
			servers = append(servers, a.String())
		}
	}
	if len(search) == 0 {
		search = hostSearch
	}
	if len(options) == 0 {
		options = hostOptions
	}
	var b strings.Builder
	if s := strings.Join(search, " "); len(search) > 0 && strings.Trim(s, " ") != "." {
		b.WriteString("search " + s + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if s := strings.Join(options, " "); strings.TrimSpace(s) != "" {
		b.WriteString("options " + s + "\n")
	}
	return []byte(b.String())
}

// Docker's refusals of --ip and --mac-address off a bridge network
// (moby's runconfig errors).
var (
	ErrIPNotUserNetwork  = errors.New("user specified IP address is supported on user defined networks only")
	ErrMacAndNetworkMode = errors.New("conflicting options: mac-address and the network mode")
)

// checkEndpoint checks --ip and --mac-address: what eth0 gets on a
// bridge network. A network namespace of the host's or another
// container's has no eth0 of this container's to set, and Docker lets a
// container choose its address on a user network only (the default
// bridge's addresses are the engine's to hand out).
func (o *Options) checkEndpoint(mode container.NetworkMode) error {
	if o.IP != "" {
		if _, err := ParseEndpointIP(o.IP); err != nil {
			return err
		}
		if !mode.IsUserDefined() {
			return ErrIPNotUserNetwork
		}
	}
	if o.MacAddress != "" {
		if _, err := ParseMAC(o.MacAddress); err != nil {
			return err
		}
		if mode != container.NetworkBridge && !mode.IsUserDefined() {
			return ErrMacAndNetworkMode
		}
	}
	return nil
}

// ParseEndpointIP reads --ip (run, network connect): an IPv4 address,
// not 0.0.0.0, refused in the words of Docker's engine (20.10 and 28
// alike: "invalid IPv4 address: 10.0.0.x").
func ParseEndpointIP(v string) (netip.Addr, error) {
	a, err := netip.ParseAddr(v)
	if a = a.Unmap(); err != nil || !a.Is4() || a.IsUnspecified() {
		return netip.Addr{}, fmt.Errorf("invalid IPv4 address: %s", v)
	}
	return a, nil
}

// ParseMAC reads --mac-address: six bytes (net.ParseMAC's forms) that
// an Ethernet interface can carry: unicast (the first byte's lowest bit
// is the group bit: the kernel refuses a multicast address for a
// device, EADDRNOTAVAIL) and not all zero.
func ParseMAC(v string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(v)
	if err != nil || len(mac) != 6 || mac[0]&1 == 1 || string(mac) == "\x00\x00\x00\x00\x00\x00" {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is not a valid mac address", v)}
	}
	return mac, nil
}
