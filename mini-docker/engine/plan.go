package engine

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/hoststep"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/plan"
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
	// Unwired: disconnected from Network (network disconnect), the
	// container's namespace is not wired to it: lo only, as with
	// --network none, and the networks connected to it besides.
	Unwired  bool
	Netns    string // md-ID12 (bridge, none)
	HostVeth string // vethXXXXXXX (bridge)
	Addr     string // 172.18.0.2/16 (bridge)
	MAC      string // eth0's, 02:42:ac:12:00:02 (bridge; --mac-address)
	Gateway  string
	Bridge   string
	bridged  *networks.Network // Network's record (bridge; prepareBridge)
	Env      []string
	// AutoRemove (run --rm): the overlay is mounted volatile, since its
	// upper layer is removed with the container (plan.OverlayMount).
	AutoRemove bool
}

// BuildPlan turns a Spec into commands: the host's steps
// (plan.HostSteps, each the tool's command and the same call into its
// package) and the chain. It fails with a MissingToolError when a
// stage's tool is not built.
func BuildPlan(s *Spec) (*Plan, error) {
	p := &Plan{Env: s.Env}
	for _, st := range plan.HostSteps(s.host()) {
		do := []string{st.Tool} // ip is the host's own
		if st.Tool != "ip" {
			path, err := s.Tools.Path(st.Tool, st.Stage)
			if err != nil {
				return nil, err
			}
			do[0] = path
		}
		do = append(do, st.Args.Flags()...)
		p.Steps = append(p.Steps, Step{Stage: st.Stage, Do: do, Fn: hoststep.Fn(st.Args, do)})
	}
	return p, chainSteps(s, p)
}

// host is s's host side in the plan's terms.
func (s *Spec) host() *plan.Host {
	return &plan.Host{ID: s.ID, Root: s.Root, Lower: s.Lower, Upper: s.Upper, Work: s.Work, Merged: s.Merged, Volatile: s.AutoRemove,
		Resources: s.Resources, Privileged: s.Caps.Privileged, OwnNetns: ownNetns(s.Network), Bridged: onBridge(s.Network) && !s.Unwired,
		NoNet: s.Network == container.NetworkNone || s.Unwired, Netns: s.Netns, HostVeth: s.HostVeth, Addr: s.Addr, MAC: s.MAC, Gateway: s.Gateway, Bridge: s.Bridge}
}

// chainSteps are the steps inside the namespaces (package plan), rendered
// both ways into p: the chain of tools and mini-docker-inside's input.
func chainSteps(s *Spec, p *Plan) error {
	// The group's directories (none when this host has no cgroups: the
	// start then fails at the cgroup step).
	s.CgroupV1, s.CgroupV2 = cgroup.DirsOf(CgroupParent, s.ID)
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
