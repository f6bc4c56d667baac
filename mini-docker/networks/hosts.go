package networks

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
)

// Names on a user network: each member's /etc/hosts lists every other
// member by its name (and aliases), and is rewritten whenever a
// container joins or leaves the network. Docker answers the same names
// from its embedded DNS server at 127.0.0.11; a file needs no server and
// `cat /etc/hosts` shows it. The file is bind-mounted into the container,
// so it is rewritten in place (same inode): a new file renamed over it
// would not be seen through the mount, which holds the old inode.

// UpdateHosts rewrites the hosts file of every member of n: joined (if
// not nil) counts as a member, the container with ID left does not.
func (s *Store) UpdateHosts(cs *container.Store, n *Network, joined *container.Container, left string, ex *explain.Printer) error {
	if n.Name == Default {
		return nil // the default bridge has no names, as in Docker
	}
	unlock, err := s.lock("hosts-" + n.ID[:12] + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	members, err := Members(cs, n)
	if err != nil {
		return err
	}
	var keep []*container.Container
	for _, m := range members {
		if m.ID != left && (joined == nil || m.ID != joined.ID) {
			keep = append(keep, m)
		}
	}
	if joined != nil {
		keep = append(keep, joined)
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].Name < keep[j].Name })
	for _, m := range keep {
		if m.HostsPath == "" {
			continue
		}
		b := hostsFor(m, keep, n)
		if ex.Enabled() {
			ex.Cmd("printf '%%s\\n' %s > %s", explain.Join(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...), explain.Quote(m.HostsPath))
		}
		if err := rewriteInPlace(m.HostsPath, b); err != nil {
			return err
		}
	}
	return nil
}

// hostsFor is m's hosts file: its own, then a line per other member.
func hostsFor(m *container.Container, members []*container.Container, n *Network) []byte {
	ep := m.NetworkSettings.Networks[n.Name]
	var b bytes.Buffer
	b.Write(HostsFile(m.Config.Hostname, ep.IPAddress))
	fmt.Fprintf(&b, "# network %s\n", n.Name)
	for _, o := range members {
		if o.ID == m.ID {
			continue
		}
		oe := o.NetworkSettings.Networks[n.Name]
		names := append([]string{strings.TrimPrefix(o.Name, "/")}, oe.Aliases...)
		fmt.Fprintf(&b, "%s\t%s\n", oe.IPAddress, strings.Join(names, " "))
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
