package objects

import (
	"net"
	"net/netip"
	"sort"
	"strings"

	mobycontainer "github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/spec"
)

// NetworkOptions sets run's --network and --network-alias from a create
// request: its HostConfig.NetworkMode (bridge, none, host, a user
// network's name, container:NAME) and its NetworkingConfig, which
// names the endpoint's aliases on that network (docker run
// --network-alias, compose's service names). API 1.41 takes one
// endpoint, as dockerd 20.10 does.
func NetworkOptions(o *spec.Options, mode string, nc *mobynet.NetworkingConfig) error {
	m := container.NetworkMode(mode)
	switch {
	case mode == "", mode == "default", m.IsBridge(), m.IsNone(), m.IsHost(), m.IsContainer():
	case strings.ContainsAny(mode, "/ \t\n\x00"):
		return wire.NotFoundf("network %s not found", mode) // no network has such a name
	}
	o.Network = mode
	if nc == nil || len(nc.EndpointsConfig) == 0 {
		return nil
	}
	if len(nc.EndpointsConfig) > 1 {
		var names []string
		for name := range nc.EndpointsConfig {
			names = append(names, name)
		}
		sort.Strings(names)
		return wire.Badf("Container cannot be connected to network endpoints: %s", strings.Join(names, ", "))
	}
	for name, ep := range nc.EndpointsConfig {
		if ep == nil || (name != mode && !(name == "bridge" && mode == "")) {
			continue
		}
		if ep.IPAMConfig != nil && ep.IPAMConfig.IPv6Address.IsValid() {
			return wire.Badf("a chosen IPv6 address (IPAMConfig.IPv6Address) is not supported by mini-docker")
		}
		if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
			o.IP = ep.IPAMConfig.IPv4Address.String() // docker run --ip
		}
		o.NetworkAliases = ep.Aliases
	}
	return nil
}

// LabelList is a create request's labels as docker run's --label
// flags, KEY=VALUE, in a stable order.
func LabelList(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Endpoints is a container's networks as GET /containers/json lists
// them (docker ps --format '{{.Networks}}'): each network's endpoint,
// its address while the container holds one.
func Endpoints(ct *container.Container) *mobycontainer.NetworkSettingsSummary {
	out := &mobycontainer.NetworkSettingsSummary{Networks: map[string]*mobynet.EndpointSettings{}}
	for name, ep := range ct.NetworkSettings.Networks {
		ip, _ := netip.ParseAddr(ep.IPAddress)
		gw, _ := netip.ParseAddr(ep.Gateway)
		mac, _ := net.ParseMAC(ep.MacAddress)
		out.Networks[name] = &mobynet.EndpointSettings{NetworkID: ep.NetworkID, Aliases: ep.Aliases, IPAddress: ip,
			Gateway: gw, IPPrefixLen: ep.IPPrefixLen, MacAddress: mobynet.HardwareAddr(mac)}
	}
	return out
}
