package networkcmd

import (
	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/networks"
)

func (c *cmd) connect(args []string) error {
	f := newFlags("connect", "[--alias NAME] NETWORK CONTAINER",
		"Connect a container to a network: a running one gets one more interface now (eth1, eth2, ...: a veth pair to the network's bridge, an address from its subnet, the route to it; the default route stays on its first network), a stopped one when it starts. Its name (and aliases) resolve on that network.",
		"mini-docker network connect app web", "mini-docker network connect --alias cache app redis", "mini-docker network connect --explain app web")
	aliases := f.StringArray("alias", nil, "add a network-scoped alias `NAME` for the container")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.WithCode(cli.Usagef(tool+" connect", "\"network connect\" requires exactly 2 arguments"), 1)
	}
	return c.withContainer(f.Arg(0), f.Arg(1), f.Explainer(), func(n *networks.Network, ctr *container.Container, ex *explain.Printer) error {
		return c.nets.Connect(c.ctrs, ctr, n, networks.EndpointOptions{Aliases: *aliases}, ex)
	})
}

func (c *cmd) disconnect(args []string) error {
	f := newFlags("disconnect", "[-f] NETWORK CONTAINER",
		"Disconnect a container from a network: its interface on it goes (the veth pair, the address back to the pool) and the other members no longer resolve its name.",
		"mini-docker network disconnect app web", "mini-docker network disconnect --explain app web")
	f.BoolP("force", "f", false, "force the container to disconnect from a network")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.WithCode(cli.Usagef(tool+" disconnect", "\"network disconnect\" requires exactly 2 arguments"), 1)
	}
	return c.withContainer(f.Arg(0), f.Arg(1), f.Explainer(), func(n *networks.Network, ctr *container.Container, ex *explain.Printer) error {
		return c.nets.Disconnect(c.ctrs, ctr, n, ex)
	})
}

// withContainer finds the network and the container (its state
// refreshed: a container whose process died is released first), and
// runs fn on the container under its lock, saving what fn changed.
// Errors are Docker's, with exit code 1.
func (c *cmd) withContainer(netRef, ctrRef string, ex *explain.Printer, fn func(*networks.Network, *container.Container, *explain.Printer) error) error {
	n, err := c.nets.Find(netRef)
	if err != nil {
		return cli.Errorf(1, "%v", err)
	}
	e, err := engine.NewEngine(c.nets.Root)
	if err != nil {
		return err
	}
	ctr, err := e.Find(ctrRef)
	if err != nil {
		return cli.Errorf(1, "%v", err)
	}
	err = networks.Locked(c.ctrs, ctr.ID, func(ctr *container.Container) error { return fn(n, ctr, ex) })
	if err != nil {
		return cli.Errorf(1, "%v", err)
	}
	return nil
}
