package engine

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/networks"
	"mini-docker/vethctl/ipam"
	"mini-docker/vethctl/network"
)

// Bridge networking, as Docker's default network: a bridge on the host
// (made on first use), an address leased from its subnet, a named network
// namespace, and a veth pair with one end in the namespace as eth0 and
// the other plugged into the bridge. Outbound NAT and isolation between
// networks are firewall rules kept for every network whose bridge exists
// (networks.SyncFirewall, lesson 12), off with daemon.json's "iptables": false.

// NetnsName is the name of a container's network namespace in /run/netns.
func NetnsName(id string) string { return "md-" + container.ShortID(id) }

// leaseAddr leases the container's address on n (the one it asked
// for with --ip, or the pool's next), in-process through vethctl's
// package (the same code as the printed `vethctl ipam alloc`).
func (e *Engine) leaseAddr(n *networks.Network, c *container.Container) (string, error) {
	addr, err := e.networks().Lease(n, c.ID, c.NetworkSettings.Networks[n.Name], e.Explain)
	if errors.Is(err, ipam.ErrExhausted) {
		err = cli.WithHint(err, "release addresses (vethctl ipam release ID) or use a larger subnet")
	}
	if err != nil {
		return "", err
	}
	return addr.String(), nil
}

// releaseNetwork deletes the namespace (which takes the veth pair with
// it) and returns the address to the pool. The firewall's rules stay:
// they go with the bridge, which stays too (networks.SyncFirewall).
func (e *Engine) releaseNetwork(c *container.Container) error {
	rt := &c.Runtime
	if rt.Netns == "" && rt.HostVeth == "" && rt.Lease == "" {
		return nil
	}
	vethctl, err := e.Tools.Path("vethctl", "network cleanup")
	if err != nil {
		return err
	}
	var errs []error
	if rt.HostVeth != "" && rt.Netns != "" && network.LinkExists(rt.HostVeth) {
		// The kernel reaps the namespace, and the veth with it, in the
		// background: seconds later on a loaded host. Until then the old
		// eth0 would still answer for an address the pool may already
		// have leased to a new container. Down, its bridge port forwards
		// nothing.
		if err := network.SetLinkDown(rt.HostVeth, e.Explain); err != nil && network.LinkExists(rt.HostVeth) {
			errs = append(errs, err)
		}
	}
	if rt.Netns != "" {
		if _, err := os.Stat("/run/netns/" + rt.Netns); err == nil {
			// In-process, through vethctl's package.
			del := []string{vethctl, "netns", "del", rt.Netns}
			e.Explain.Argv(del...)
			if err := network.NetnsDel(rt.Netns, nil); err != nil {
				errs = append(errs, stepError(del, err))
			}
		}
		if _, err := os.Stat("/run/netns/" + rt.Netns); os.IsNotExist(err) {
			rt.Netns = ""
			// The veth goes with the namespace: with no process left
			// inside, the kernel frees the namespace in the background,
			// deletes its eth0, and with it the host end. Deleting the
			// host end here would wait for the kernel's own cleanup of one
			// device (some 20-50 ms); the namespace's cleanup does the
			// devices of every dying namespace in one batch.
			rt.HostVeth = ""
		}
	}
	if rt.HostVeth != "" && rt.Netns == "" && network.LinkExists(rt.HostVeth) {
		// A veth whose namespace is already gone and that the kernel has
		// not reaped (a state written by an older version that deleted the
		// namespace first): delete it, both ends go at once.
		del := []string{vethctl, "delete", rt.HostVeth}
		e.Explain.Argv(del...)
		if err := network.DeleteLink(rt.HostVeth, nil); err != nil && network.LinkExists(rt.HostVeth) {
			errs = append(errs, stepError(del, err))
		}
	}
	if rt.HostVeth != "" && rt.Netns == "" && !network.LinkExists(rt.HostVeth) {
		rt.HostVeth = ""
	}
	if rt.Lease != "" {
		t := time.Now()
		if err := e.networks().LeaveNames(e.Store, c, e.Explain); err != nil {
			errs = append(errs, err)
		}
		if c.HostConfig.NetworkMode.IsUserDefined() {
			e.stage("names", t)
		}
		if err := e.networks().Release(c.ID, rt.Lease, e.Explain); err != nil {
			errs = append(errs, err)
		} else {
			rt.Lease = ""
		}
	}
	return errors.Join(errs...)
}

// onBridge reports whether mode puts the container on a bridge network:
// the default one or a user-defined one.
func onBridge(mode container.NetworkMode) bool {
	return mode == container.NetworkBridge || mode.IsUserDefined()
}

// bridgeIP is c's address on its bridge network ("" without one).
func bridgeIP(c *container.Container) string {
	if ep := c.NetworkSettings.Networks[networks.PrimaryNetwork(c)]; ep != nil {
		return ep.IPAddress
	}
	return ""
}

// networks is the state root's networks.
func (e *Engine) networks() *networks.Store {
	return &networks.Store{Root: e.Root, Vethctl: filepath.Join(e.Tools.Dir, "vethctl")}
}

// syncFirewall makes the host's NAT and isolation rules those of the
// networks whose bridge exists.
func (e *Engine) syncFirewall() error {
	defer e.stage("firewall", time.Now())
	return e.networks().SyncFirewall(e.Explain)
}

// syncFirewallMeanwhile is networks.Store.SyncFirewallMeanwhile, timed
// as the "firewall" stage.
func (e *Engine) syncFirewallMeanwhile() (wait func() error) {
	return e.networks().SyncFirewallMeanwhile(e.Explain, func(t time.Time) { e.stage("firewall", t) })
}
