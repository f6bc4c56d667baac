// Package hoststep does the host side of a run's plan in-process: each
// step (overlay mount, cgroupctl create, vethctl netns add and create)
// through its tool's own package, the same code as the tool's command
// that --explain prints, without starting a program. Lesson 09
// (lessons/09-mini-docker.md) teaches the chain these steps begin.
package hoststep

import (
	"fmt"
	"net"
	"path/filepath"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/mini-docker/plan"
	"mini-docker/overlay/overlayfs"
	"mini-docker/vethctl/network"
)

// Fn does a host step in-process, through the tool's own package
// (the same code as its command, without starting a program); the
// bridge, made once, and freeze outside the plan still run their tool.
func Fn(a plan.HostArgs, do []string) func() error {
	switch a := a.(type) {
	case plan.OverlayMount:
		return func() error {
			_, err := overlayfs.Mount(overlayfs.Options{Lower: a.Lower, Upper: a.Upper, Work: a.Work, Merged: a.Merged, Volatile: a.Volatile,
				LinkDir: filepath.Join(a.Root, "overlay", "l")}, nil) // as overlay mount --root ROOT
			return toolkit.StepError(do, err)
		}
	case plan.CgroupCreate:
		return func() error {
			h, err := cgroup.Detected()
			if err == nil {
				_, _, err = cgroup.Create(h, a.Parent, a.Name, a.Resources, nil)
			}
			return toolkit.StepError(do, err)
		}
	case plan.VethCreate:
		return createVeth(a, do)
	case plan.NetnsAdd:
		return func() error {
			_, err := network.NetnsAdd(a.Name, nil)
			return toolkit.StepError(do, err)
		}
	case plan.Netconf:
		return func() error { return network.ConfigureContainerNetns(filepath.Join("/run/netns", a.Netns), a.None) }
	case plan.LoUp:
		return func() error { return nil } // done by the netconf step
	}
	return nil
}

// createVeth is the veth step in-process (`vethctl create HOST eth0
// --netns NS --addr ... --gateway ... --bridge BR`, through vethctl's
// package): the peer is born in the container's namespace as eth0.
func createVeth(a plan.VethCreate, do []string) func() error {
	return func() error {
		v := network.Veth{Host: a.Host, Peer: "eth0", NS: network.Named(a.Netns), Bridge: a.Bridge}
		var err error
		if v.Addr, err = network.ParseCIDR(a.Addr); err != nil {
			return toolkit.StepError(do, err)
		}
		if v.PeerMAC, err = net.ParseMAC(a.MAC); err != nil {
			return toolkit.StepError(do, fmt.Errorf("invalid --mac %q: %w", a.MAC, err))
		}
		if v.Gateway = net.ParseIP(a.Gateway).To4(); v.Gateway == nil {
			return toolkit.StepError(do, fmt.Errorf("invalid --gateway %q (want an IP address)", a.Gateway))
		}
		_, err = network.CreateVeth(v, nil)
		return toolkit.StepError(do, err)
	}
}
