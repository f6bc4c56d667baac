package networks

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/spec"
)

// The three files Docker generates for every container and bind-mounts
// over the image's own: the image cannot know the container's hostname,
// address or the host's DNS servers. Docker's network code (libnetwork's
// etchosts and resolvconf) writes them; so does this package.

// HostsFile returns Docker's /etc/hosts for container c with address
// ip (empty with --network none): the defaults, the --add-host lines
// (host-gateway is the default bridge's gateway, the host as its
// containers reach it), then c's own name.
func HostsFile(c *container.Container, ip string) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	_, gw := Subnet(defaultNetwork())
	b.WriteString(spec.ExtraHostLines(c.HostConfig.ExtraHosts, gw.String()))
	if ip != "" {
		fmt.Fprintf(&b, "%s\t%s\n", ip, c.Config.Hostname)
	}
	return b.Bytes()
}

// ResolvConf returns the container's /etc/resolv.conf made from the
// host's: nameservers on loopback (systemd-resolved's 127.0.0.53, a local
// dnsmasq) are unreachable from a container's own network namespace, so
// Docker drops them, and falls back to public resolvers when none is left.
// With the host's network (keepLoopback) the file is kept as it is.
func ResolvConf(host []byte, keepLoopback bool) []byte {
	if keepLoopback {
		return host
	}
	var out bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip := net.ParseIP(strings.SplitN(f[1], "%", 2)[0])
			if ip != nil && ip.IsLoopback() {
				continue
			}
			servers++
		}
		out.WriteString(line + "\n")
	}
	if servers == 0 {
		out.WriteString("\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n")
	}
	return out.Bytes()
}

// WriteEtcFiles writes c's hostname, hosts and resolv.conf into dir.
func WriteEtcFiles(dir string, c *container.Container, ip string, hostNetwork bool) (spec.EtcFiles, error) {
	hostname, hc := c.Config.Hostname, &c.HostConfig
	e := spec.EtcFiles{
		Hostname:   filepath.Join(dir, "hostname"),
		Hosts:      filepath.Join(dir, "hosts"),
		ResolvConf: filepath.Join(dir, "resolv.conf"),
	}
	hosts := HostsFile(c, ip)
	if hostNetwork {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = b
		}
	}
	host, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return e, fmt.Errorf("read host's /etc/resolv.conf: %w", err)
	}
	for path, data := range map[string][]byte{
		e.Hostname:   []byte(hostname + "\n"),
		e.Hosts:      hosts,
		e.ResolvConf: spec.BuildResolvConf(ResolvConf(host, hostNetwork), hc.DNS, hc.DNSSearch, hc.DNSOptions),
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return e, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return e, nil
}
