package networks

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/container"
)

// PortSummaries are c's ports as Docker lists them (GET /containers/json
// and so docker ps): while c runs, each published port with the host
// address and port it got (-P's and -p 80's free ports included), and
// each exposed port that is not published, without a host side; none
// once it stopped.
func PortSummaries(c *container.Container) []mobycontainer.PortSummary {
	out := []mobycontainer.PortSummary{}
	if !c.State.Running {
		return out
	}
	for port, bs := range c.NetworkSettings.Ports {
		for _, b := range bs {
			pub, _ := strconv.Atoi(b.HostPort)
			out = append(out, mobycontainer.PortSummary{IP: b.HostIP, PrivatePort: port.Num(), PublicPort: uint16(pub), Type: string(port.Proto())})
		}
	}
	for port := range c.Config.ExposedPorts {
		if len(c.NetworkSettings.Ports[port]) == 0 {
			out = append(out, mobycontainer.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessPort(out[i], out[j]) })
	return out
}

// lessPort is Docker's order: container port, host address, host port, protocol.
func lessPort(a, b mobycontainer.PortSummary) bool {
	if a.PrivatePort != b.PrivatePort {
		return a.PrivatePort < b.PrivatePort
	}
	if a.IP != b.IP {
		return a.IP.Less(b.IP)
	}
	if a.PublicPort != b.PublicPort {
		return a.PublicPort < b.PublicPort
	}
	return a.Type < b.Type
}

// DisplayPorts is docker ps's PORTS column (the CLI's
// DisplayablePorts): "0.0.0.0:8080->80/tcp" for a published port, "80/tcp"
// for an exposed one, and consecutive ports published on the same
// numbers, or exposed, as one range ("0.0.0.0:7000-7001->7000-7001/tcp").
func DisplayPorts(ports []mobycontainer.PortSummary) string {
	type group struct{ first, last uint16 }
	groups := map[string]*group{}
	var keys, result, mappings []string
	ports = append([]mobycontainer.PortSummary{}, ports...)
	sort.Slice(ports, func(i, j int) bool { return lessPort(ports[i], ports[j]) })
	for _, p := range ports {
		key := p.Type
		if p.IP.IsValid() {
			if p.PublicPort != p.PrivatePort {
				mappings = append(mappings, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(p.IP.String(), strconv.Itoa(int(p.PublicPort))), p.PrivatePort, p.Type))
				continue
			}
			key = p.IP.String() + "/" + p.Type
		}
		g := groups[key]
		switch {
		case g == nil:
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
			keys = append(keys, key)
		case p.PrivatePort == g.last+1:
			g.last = p.PrivatePort
		default:
			result = append(result, formGroup(key, g.first, g.last))
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
		}
	}
	for _, k := range keys {
		result = append(result, formGroup(k, groups[k].first, groups[k].last))
	}
	return strings.Join(append(result, mappings...), ", ")
}

// formGroup renders one range: "IP:A-B->A-B/PROTO", or "A-B/PROTO"
// without a host address.
func formGroup(key string, first, last uint16) string {
	ip, proto, ok := strings.Cut(key, "/")
	if !ok {
		ip, proto = "", key
	}
	r := strconv.Itoa(int(first))
	if first != last {
		r += "-" + strconv.Itoa(int(last))
	}
	if ip != "" {
		r = ip + ":" + r + "->" + r
	}
	return r + "/" + proto
}
