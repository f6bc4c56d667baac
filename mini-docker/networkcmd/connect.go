package networkcmd

import (
	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/spec"
)

func (c *cmd) connect(args []string) error {
	f := newFlags("connect", "[--alias NAME] [--ip IP] NETWORK CONTAINER",
		"Connect a container to a network: a running one gets one more interface now (eth1, eth2, ...: a veth pair to the network's bridge, an address from its subnet, the route to it; the default route stays on its first network, or comes to this one if it has none), a stopped one when it starts. Its name (and aliases) resolve on that network. --ip chooses the address, on a network created with --subnet.",
		"mini-docker network connect app web", "mini-docker network connect --alias cache app redis", "mini-docker network connect --ip 10.10.0.50 lab web", "mini-docker network connect --explain app web")
	aliases := f.StringArray("alias", nil, "add a network-scoped alias `NAME` for the container")
	ip := f.String("ip", "", "IPv4 address `IP` (e.g. 172.30.100.104), on a network created with --subnet")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.WithCode(cli.Usagef(tool+" connect", "\"network connect\" requires exactly 2 arguments"), 1)
	}
	o := networks.EndpointOptions{Aliases: *aliases}
	if *ip != "" {
		var err error
		if o.IP, err = spec.ParseEndpointIP(*ip); err != nil {
			return cli.Errorf(1, "%v", err)
		}
	}
	return c.withContainer(f.Arg(0), f.Arg(1), f.Explainer(), func(n *networks.Network, ctr *container.Container, ex *explain.Printer) error {
		return c.nets.Connect(c.ctrs, ctr, n, o, ex)
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
