package networks

import (
	"net/netip"
	"testing"

	mobycontainer "github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/mini-docker/container"
)

// The PORTS column as the Docker 20.10 CLI prints it for the same ports.
func TestDisplayPorts(t *testing.T) {
	any4 := netip.MustParseAddr("0.0.0.0")
	lo := netip.MustParseAddr("127.0.0.1")
	p := func(ip netip.Addr, priv, pub uint16, proto string) mobycontainer.PortSummary {
		return mobycontainer.PortSummary{IP: ip, PrivatePort: priv, PublicPort: pub, Type: proto}
	}
	for _, c := range []struct {
		ports []mobycontainer.PortSummary
		want  string
	}{
		{nil, ""},
		{[]mobycontainer.PortSummary{p(any4, 80, 8080, "tcp")}, "0.0.0.0:8080->80/tcp"},
		{[]mobycontainer.PortSummary{p(netip.Addr{}, 80, 0, "tcp")}, "80/tcp"},
		{[]mobycontainer.PortSummary{p(netip.Addr{}, 443, 0, "tcp"), p(netip.Addr{}, 80, 0, "tcp"), p(netip.Addr{}, 81, 0, "tcp")}, "80-81/tcp, 443/tcp"},
		{[]mobycontainer.PortSummary{p(any4, 7001, 7001, "tcp"), p(any4, 7000, 7000, "tcp")}, "0.0.0.0:7000-7001->7000-7001/tcp"},
		{[]mobycontainer.PortSummary{p(lo, 53, 5353, "udp"), p(any4, 80, 32768, "tcp"), p(netip.Addr{}, 22, 0, "tcp")},
			"22/tcp, 127.0.0.1:5353->53/udp, 0.0.0.0:32768->80/tcp"},
	} {
		if got := DisplayPorts(c.ports); got != c.want {
			t.Errorf("DisplayPorts(%v) = %q, want %q", c.ports, got, c.want)
		}
	}
}

// A running container lists the ports it got and its exposed ones; a
// stopped one none, as docker ps -a shows.
func TestPortSummaries(t *testing.T) {
	web, _ := mobynet.ParsePort("80/tcp")
	ssh, _ := mobynet.ParsePort("22/tcp")
	c := &container.Container{}
	c.Config.ExposedPorts = mobynet.PortSet{web: {}, ssh: {}}
	c.NetworkSettings.Ports = mobynet.PortMap{web: {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "32768"}}}
	c.State.Running = true
	if got := DisplayPorts(PortSummaries(c)); got != "22/tcp, 0.0.0.0:32768->80/tcp" {
		t.Errorf("running: %q", got)
	}
	c.State.Running = false
	if got := PortSummaries(c); len(got) != 0 {
		t.Errorf("stopped: %v", got)
	}
}
