package networks

import (
	"net/netip"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
)

// What `mini-docker network` and the API's /networks share: one
// inspect, one prune, one way to change a container's networks.

// Inspect is n with its containers, those holding an address on it, as
// `docker network inspect` prints it.
func Inspect(cs *container.Store, n *Network) (mobynet.Inspect, error) {
	in := mobynet.Inspect{Network: *n, Containers: map[string]mobynet.EndpointResource{}}
	members, err := Members(cs, n)
	if err != nil {
		return in, err
	}
	for _, m := range members {
		ep := m.NetworkSettings.Networks[n.Name]
		ip, _ := netip.ParseAddr(ep.IPAddress)
		in.Containers[m.ID] = mobynet.EndpointResource{Name: strings.TrimPrefix(m.Name, "/"), EndpointID: m.ID,
			IPv4Address: netip.PrefixFrom(ip, ep.IPPrefixLen)}
	}
	return in, nil
}

// Prune removes every user-defined network that no container uses and
// that keep does not keep, then the rules of the networks removed, and
// returns their names.
func (s *Store) Prune(cs *container.Store, keep func(*Network) bool, ex *explain.Printer) ([]string, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range all {
		if n.Name == Default || keep(n) {
			continue
		}
		if err := s.remove(cs, n, ex); err == nil {
			removed = append(removed, n.Name)
		}
	}
	return removed, s.SyncFirewall(ex)
}

// Locked runs fn on the container id under its lock, on its record as
// saved (read again under the lock), and saves what fn changed: how
// connect and disconnect change a container's networks while others
// may start, stop or change it too.
func Locked(cs *container.Store, id string, fn func(*container.Container) error) error {
	l, err := cs.LockContainer(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	c, err := cs.Load(id)
	if err != nil {
		return err
	}
	err = fn(c)
	if serr := cs.Save(c); serr != nil && err == nil {
		err = serr
	}
	return err
}
