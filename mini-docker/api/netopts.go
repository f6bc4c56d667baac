package api

import (
	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/spec"
)

// A create request's /etc files' settings (issue 17), as docker run's
// flags: HostConfig.Dns, DnsSearch, DnsOptions and ExtraHosts (--dns,
// --dns-search, --dns-option, --add-host). The engine checks them as it
// checks the flags, in Docker's words (objects.NetworkOptions carries
// the network itself: NetworkMode, container:NAME, the endpoint's
// aliases and address).

// netOptions sets o's /etc files' flags from hc.
func netOptions(o *spec.Options, hc *mobycontainer.HostConfig) {
	for _, a := range hc.DNS {
		o.DNS = append(o.DNS, a.String())
	}
	o.DNSSearch = append([]string(nil), hc.DNSSearch...)
	o.DNSOptions = append([]string(nil), hc.DNSOptions...)
	o.AddHost = append([]string(nil), hc.ExtraHosts...)
}
