package network

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// FuzzForwardAddresses checks what `vethctl forward --listen --to
// --proto` accepts: no panic, and an accepted forward has a known
// protocol, IP:PORT addresses with a port number the kernel can bind,
// and an --explain line that is one line.
func FuzzForwardAddresses(f *testing.F) {
	for _, s := range [][3]string{
		{"tcp", "127.0.0.1:8080", "172.18.0.2:80"},
		{"udp", ":53", "[fd00::2]:53"},
		{"tcp", "0.0.0.0:0", "10.0.0.2:65535"},
		{"tcp", "127.0.0.1:http", "10.0.0.2:80"},
		{"tcp", "127.0.0.1:65536", "10.0.0.2:-1"},
		{"sctp", "127.0.0.1:1", "10.0.0.2:1"},
		{"tcp", "localhost:80", "10.0.0.2:80"},
		{"tcp", "[::1%lo]:80", "10.0.0.2:80\n+ rm -rf /"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, proto, listen, target string) {
		fw := Forward{Proto: proto, Listen: listen, Target: target}
		if fw.check() != nil {
			return
		}
		if proto != "tcp" && proto != "udp" {
			t.Fatalf("protocol %q accepted", proto)
		}
		for _, a := range []string{listen, target} {
			host, port, err := net.SplitHostPort(a)
			if err != nil {
				t.Fatalf("%q accepted but is not HOST:PORT: %v", a, err)
			}
			if host != "" && net.ParseIP(host) == nil {
				t.Fatalf("%q accepted with a host that is no IP address", a)
			}
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				t.Fatalf("%q accepted with port %q, not a number from 0 to 65535", a, port)
			}
		}
		if line := fw.socat(); strings.ContainsAny(line, "\n\r") {
			t.Fatalf("the --explain line %q spans several lines", line)
		}
	})
}

// FuzzNames checks link and namespace names against the kernel's rules:
// a link name vethctl accepts is one dev_valid_name accepts (1 to 15
// bytes, not "." or "..", no '/', ':' or isspace() character), and a
// namespace name it accepts is one file name right inside /run/netns.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"eth0", "vt-veth", "a\rb", "a\vb", "a\fb", "..", "x/y", "x:1", "0123456789abcdef", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkLinkName(name) == nil {
			if len(name) == 0 || len(name) > 15 || name == "." || name == ".." ||
				strings.ContainsAny(name, "/:") || strings.ContainsAny(name, " \t\n\v\f\r") {
				t.Fatalf("link name %q accepted; the kernel refuses it", name)
			}
		}
		if checkNetnsName(name) == nil {
			if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || strings.ContainsRune(name, 0) {
				t.Fatalf("namespace name %q accepted; it is no file name in %s", name, NetnsDir)
			}
		}
	})
}
