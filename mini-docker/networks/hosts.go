package networks

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/vethctl/ipam"
)

// Names on a user network: each member's /etc/hosts lists every other
// member by its name (and aliases), and is rewritten whenever a
// container joins or leaves the network. Docker answers the same names
// from its embedded DNS server at 127.0.0.11; a file needs no server and
// `cat /etc/hosts` shows it. The file is bind-mounted into the container,
// so it is rewritten in place (same inode): a new file renamed over it
// would not be seen through the mount, which holds the old inode.

// LeaveNames takes c out of the hosts files of its user network's
// members. A container that has ended and is removed next (run --rm)
// keeps no file of its own to rewrite: when its lease's pool holds no
// one else's, no file is, and the network's record is not even read.
func (s *Store) LeaveNames(cs *container.Store, c *container.Container, ex *explain.Printer) error {
	if !c.HostConfig.NetworkMode.IsUserDefined() {
		return nil
	}
	if c.HostConfig.AutoRemove && !c.State.Running && s.alone(c) {
		return nil
	}
	n, err := s.Find(c.HostConfig.NetworkMode.NetworkName())
	if err != nil {
		return nil // removed meanwhile: no one to tell
	}
	return s.UpdateHosts(cs, n, c, true, ex)
}

// UpdateHosts rewrites the hosts files after c joined n (as it is now,
// not yet saved) or left it (left): the file of every member of n, and
// the leaving one's own. A container on several user networks lists
// the members of each.
func (s *Store) UpdateHosts(cs *container.Store, n *Network, c *container.Container, left bool, ex *explain.Printer) error {
	if n.Name == Default {
		return nil // the default bridge has no names, as in Docker
	}
	unlock, err := s.lock("hosts.lock")
	if err != nil {
		return err
	}
	defer unlock()
	all, err := s.neighbours(cs, n, c)
	if err != nil {
		return err
	}
	v := hostsView{all: all, net: n.Name}
	if left {
		v.left = c.ID
	}
	for _, m := range v.all {
		if m.HostsPath == "" || (!v.member(m, n.Name) && m.ID != v.left) {
			continue
		}
		b := v.hostsFor(m)
		if ex.Enabled() {
			ex.Cmd("printf '%%s\\n' %s > %s", explain.Join(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...), explain.Quote(m.HostsPath))
		}
		if err := rewriteInPlace(m.HostsPath, b); err != nil && m.ID == c.ID {
			return err
		} else if err != nil {
			// Another member's file (one it made immutable, with
			// --cap-add LINUX_IMMUTABLE): its names go stale, but it
			// cannot keep containers off the network.
			fmt.Fprintf(os.Stderr, "WARNING: the names of network %s in %s's /etc/hosts are not updated: %v\n", n.Name, strings.TrimPrefix(m.Name, "/"), err)
		}
	}
	return nil
}

// neighbours returns, sorted by name, the containers the hosts files
// to rewrite must show: self (as it is now, not as saved), the holders
// of an address in n's pool (n's members: their files are rewritten),
// and the members of the other user networks those are on (each file
// lists them too). The pools say who is where without reading every
// container's state: a network's only container reads none, so a
// start on a user network costs no more than one on the default bridge
// until it has neighbours to name.
func (s *Store) neighbours(cs *container.Store, n *Network, self *container.Container) ([]*container.Container, error) {
	byID := map[string]*container.Container{self.ID: self}
	load := func(net *Network) error {
		ids, err := s.leaseHolders(net)
		for _, id := range ids {
			if byID[id] != nil {
				continue
			}
			if c, err := cs.Load(id); err == nil { // removed meanwhile, or a lease by hand (vethctl ipam alloc)
				byID[id] = c
			}
		}
		return err
	}
	if err := load(n); err != nil {
		return nil, err
	}
	seen := map[string]bool{n.Name: true, Default: true}
	members := make([]*container.Container, 0, len(byID))
	for _, c := range byID {
		members = append(members, c)
	}
	for _, m := range members {
		for name := range m.NetworkSettings.Networks {
			if seen[name] || !Attached(m, name) {
				continue
			}
			seen[name] = true
			other, err := s.Find(name)
			if err != nil {
				continue // removed meanwhile: its members are no one's neighbours
			}
			if err := load(other); err != nil {
				return nil, err
			}
		}
	}
	all := make([]*container.Container, 0, len(byID))
	for _, c := range byID {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// alone reports whether c's lease (c.Runtime.Lease) is the only one
// in its pool.
func (s *Store) alone(c *container.Container) bool {
	_, sn, err := net.ParseCIDR(c.Runtime.Lease)
	if err != nil {
		return false
	}
	pool, err := ipam.OpenSubnet(s.Root, sn.String(), "")
	if err != nil {
		return false
	}
	leases, err := pool.Leases()
	return err == nil && !slices.ContainsFunc(leases, func(l ipam.Lease) bool { return l.ID != c.ID })
}

// leaseHolders are the IDs holding an address in n's pool.
func (s *Store) leaseHolders(n *Network) ([]string, error) {
	pool, err := s.pool(n)
	if err != nil {
		return nil, err
	}
	leases, err := pool.Leases()
	ids := make([]string, 0, len(leases))
	for _, l := range leases {
		ids = append(ids, l.ID)
	}
	return ids, err
}

// hostsView is every container as the hosts files must show them: the
// one with ID left no longer on the network named net.
type hostsView struct {
	all       []*container.Container
	left, net string
}

func (v hostsView) member(c *container.Container, name string) bool {
	return Attached(c, name) && (c.ID != v.left || name != v.net)
}

// hostsFor is m's hosts file: its own lines (its address on its first
// network), then, for each user network it is on, a line per other member.
func (v hostsView) hostsFor(m *container.Container) []byte {
	var names []string
	for name := range m.NetworkSettings.Networks {
		if v.member(m, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	ip := ""
	if ep := m.NetworkSettings.Networks[PrimaryNetwork(m)]; ep != nil && v.member(m, PrimaryNetwork(m)) {
		ip = ep.IPAddress
	} else if len(names) > 0 {
		ip = m.NetworkSettings.Networks[names[0]].IPAddress
	}
	var b bytes.Buffer
	b.Write(HostsFile(m, ip))
	for _, name := range names {
		if name == Default {
			continue
		}
		fmt.Fprintf(&b, "# network %s\n", name)
		for _, o := range v.all {
			if o.ID == m.ID || !v.member(o, name) {
				continue
			}
			oe := o.NetworkSettings.Networks[name]
			fmt.Fprintf(&b, "%s\t%s\n", oe.IPAddress, strings.Join(append([]string{strings.TrimPrefix(o.Name, "/")}, oe.Aliases...), " "))
		}
	}
	return b.Bytes()
}

// rewriteInPlace writes b over path's content without a new inode:
// write from the start, then cut what is left of the old content (never
// empty in between).
func rewriteInPlace(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // a container removed meanwhile
		}
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	return nil
}
