package engine

import (
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/plan"
	"mini-docker/overlay/overlayfs"
	"mini-docker/vethctl/network"
)

// The chain: how `mini-docker run` becomes the toolkit's own commands.
//
// Host side, one step per primitive, each undone when the container is
// removed:
//
//	overlay mount --lower L3:L2:L1 --upper U --work W MERGED
//	cgroupctl create ID --memory 32m ...
//	vethctl netns add md-ID12 ; vethctl create vethXXXXXXX eth0 --netns md-ID12 ...
//
// Then one process that becomes the container, each tool applying its
// primitive and exec'ing the next, so the user's command ends up as PID 1
// of the new PID namespace with nothing of ours left inside:
//
//	unshare --mount --uts --ipc --pid --net-path /run/netns/md-ID12 --hostname ID12 -- \
//	  cgroupctl exec --name ID -- \
//	  chroot --pivot MERGED --docker --bind ... --workdir / -- \
//	  seccompctl run --profile default --caps ... -- \
//	  capctl run --docker-default -- CMD ARGS
//
// On a cgroup v2 host the chain also makes a cgroup namespace, and then
// `cgroupctl exec` comes first, before `unshare ... --cgroup`, so that the
// namespace's root is the container's cgroup (see BuildPlan).

// Bridge network defaults, as in the composition contract.
const (
	DefaultBridge  = "mini-docker0"
	DefaultSubnet  = "172.18.0.0/16"
	DefaultGateway = "172.18.0.1"
	CgroupParent   = plan.CgroupParent
)

// Step is one host-side command.
type Step struct {
	Stage string
	Do    []string
	// Fn, when set, does the step in-process; Do is then the command it
	// stands for, printed by --explain (and run by the printed script).
	Fn func() error
}

// Plan is a whole run as commands.
type Plan struct {
	Steps []Step
	Env   []string // the container's environment (set with env -i)
	Chain []string // unshare ... -- CMD
	// Files are the tools the chain runs inside the new root, passed as
	// descriptors 3, 4, ... (read-only, see launch/hops.go; the printed script
	// opens them with shell redirections).
	Files []string
	// Hops are the indexes in Chain of the programs named by their host
	// path (unshare, cgroupctl, chroot): run --tool-chain execs them
	// through read-only descriptors too, after Files (launch/hops.go).
	Hops []int
	// Comms names the stage of each program of the chain by the command
	// name the kernel shows for it (/proc/PID/comm), for --timings.
	Comms map[string]string
	// Caps are the capabilities the container keeps (names without
	// CAP_), recorded so that exec gives its processes the same.
	Caps []string
	// Inside is the chain from unshare on as data, for mini-docker's
	// own process that does those steps without exec'ing each tool
	// (launch/inside.go).
	Inside *container.Inside
}

// ChainLine is the chain as one shell line, started with env -i so that
// the container sees exactly its own environment, and with the inside
// tools opened as descriptors 3, 4, ...
func (p *Plan) ChainLine() string { return launch.ChainLine(p.Env, p.Chain, p.Files) }

// Spec is everything the plan is made from: the steps inside the
// namespaces' (plan.Spec), and the host side's.
type Spec struct {
	plan.Spec
	Self      string // mini-docker's own executable
	Root      string // state root
	Tools     Tools
	Lower     []string // image layers, top-most first (overlayfs's order)
	Upper     string
	Work      string
	Resources *specs.LinuxResources // the cgroup's limits, the OCI spec's
	Network   container.NetworkMode
	Netns     string // md-ID12 (bridge, none)
	HostVeth  string // vethXXXXXXX (bridge)
	Addr      string // 172.18.0.2/16 (bridge)
	Gateway   string
	Bridge    string
	Env       []string
}

// BuildPlan turns a Spec into commands. It fails with a
// MissingToolError when a stage's tool is not built.
//
// The overlay, cgroup, netns and netconf steps run in-process through
// the tool's own package (the same code, without starting a program);
// the veth step starts vethctl, as do the bridge, the address lease and
// freeze outside the plan (runTool). --explain prints every step as the
// tool's command, which does the same by hand.
func BuildPlan(s *Spec) (*Plan, error) {
	p := &Plan{Env: s.Env}
	for _, add := range []func(*Spec) ([]Step, error){overlayStep, cgroupStep, netnsSteps} {
		steps, err := add(s)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, steps...)
	}
	return p, chainSteps(s, p)
}

// overlayStep is the root filesystem: the image's layers under a fresh
// upper layer.
func overlayStep(s *Spec) ([]Step, error) {
	overlay, err := s.Tools.Path("overlay", "overlay mount")
	if err != nil {
		return nil, err
	}
	mount := []string{overlay, "mount", "--root", s.Root, "--lower", strings.Join(s.Lower, ":"), "--upper", s.Upper, "--work", s.Work, s.Merged}
	return []Step{{Stage: "overlay", Do: mount,
		Fn: func() error {
			_, err := overlayfs.Mount(overlayfs.Options{Lower: s.Lower, Upper: s.Upper, Work: s.Work, Merged: s.Merged,
				LinkDir: filepath.Join(s.Root, "overlay", "l")}, nil) // as overlay mount --root ROOT
			return stepError(mount, err)
		}}}, nil
}

// cgroupStep is the cgroup, with the limits and the device rules (v1
// devices controller): Docker's defaults (deny everything, then allow
// null, zero, full, random, urandom, tty, ptmx, pts and mknod of any), or
// every device with --privileged.
func cgroupStep(s *Spec) ([]Step, error) {
	cgroupctl, err := s.Tools.Path("cgroupctl", "cgroup")
	if err != nil {
		return nil, err
	}
	res := plan.CgroupResources(s.Resources, s.Caps.Privileged)
	create := []string{cgroupctl, "create", s.ID, "--parent", CgroupParent}
	create = append(create, res.Flags()...)
	create = append(create, "--devices", res.Devices)
	return []Step{{Stage: "cgroup", Do: create,
		Fn: func() error {
			h, err := hostCgroups()
			if err == nil {
				_, _, err = cgroup.Create(h, CgroupParent, s.ID, res, nil)
			}
			return stepError(create, err)
		}}}, nil
}

// netnsSteps are the network namespace: a named one (so it can be set
// up before the chain joins it), wired to the bridge unless --network
// none; nothing with --network host.
func netnsSteps(s *Spec) ([]Step, error) {
	if !ownNetns(s.Network) {
		return nil, nil
	}
	vethctl, err := s.Tools.Path("vethctl", "network")
	if err != nil {
		return nil, err
	}
	add := []string{vethctl, "netns", "add", s.Netns}
	steps := []Step{{Stage: "netns", Do: add,
		Fn: func() error {
			_, err := network.NetnsAdd(s.Netns, nil)
			return stepError(add, err)
		}}}
	if onBridge(s.Network) {
		steps = append(steps, Step{Stage: "veth",
			Do: []string{vethctl, "create", s.HostVeth, "eth0", "--netns", s.Netns,
				"--addr", s.Addr, "--gateway", s.Gateway, "--bridge", s.Bridge}})
	}
	// What Docker sets in every container's network namespace: any user
	// may bind ports below 1024 and send pings (the namespace is the
	// container's own, so this opens nothing on the host), and a loopback
	// that is up even with --network none.
	nsPath := filepath.Join("/run/netns", s.Netns)
	none := s.Network == container.NetworkNone
	steps = append(steps, Step{Stage: "netconf", Do: sysctlCmd(s.Netns, none),
		Fn: func() error { return ConfigureNetns(nsPath, none) }})
	if none {
		steps = append(steps, Step{Stage: "lo up", Do: []string{"ip", "-n", s.Netns, "link", "set", "lo", "up"},
			Fn: func() error { return nil }}) // done by the step above
	}
	return steps, nil
}

// chainSteps are the steps inside the namespaces (package plan), rendered
// both ways into p: the chain of tools and mini-docker-inside's input.
func chainSteps(s *Spec, p *Plan) error {
	if h, err := hostCgroups(); err == nil {
		// The group's directories, when this host has cgroups (a plan
		// built without them fails at the start, where the cgroup step does).
		if g, err := cgroup.New(h, CgroupParent, s.ID); err == nil {
			s.CgroupV1, s.CgroupV2 = g.SplitDirs()
		}
	}
	steps := plan.Steps(&s.Spec)
	paths, err := toolPaths(s.Tools, s.Self, steps, "")
	if err != nil {
		return err
	}
	prog, err := s.Tools.Path("mini-docker-inside", "namespaces")
	if err != nil {
		return err
	}
	c := plan.RenderChain(steps, s.Argv, func(t string) string { return paths[t] })
	p.Chain, p.Files, p.Hops, p.Comms, p.Caps = c.Argv, c.Files, c.Hops, c.Comms, s.KeepCaps
	p.Inside = plan.RenderInside(steps, s.Argv, prog)
	return nil
}

// toolPaths finds the tool of each step (mini-docker's own is self), or
// fails with a MissingToolError naming the step's stage (after prefix).
func toolPaths(tools Tools, self string, steps []plan.Step, prefix string) (map[string]string, error) {
	paths := map[string]string{"mini-docker": self}
	for _, st := range steps {
		if _, ok := paths[st.Tool]; !ok {
			var err error
			if paths[st.Tool], err = tools.Path(st.Tool, prefix+st.Stage); err != nil {
				return nil, err
			}
		}
	}
	return paths, nil
}

// sysctlCmd is the netconf step as a command: Docker's two sysctls, and
// with --network none IPv6 off (lo then gets 127.0.0.1/8 only).
func sysctlCmd(netns string, none bool) []string {
	cmd := []string{"ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0",
		"net.ipv4.ping_group_range=0 2147483647"}
	if none {
		cmd = append(cmd, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.lo.disable_ipv6=1")
	}
	return cmd
}
