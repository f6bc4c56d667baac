package plan

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/cgroupctl/cgroup/devicefilter"
)

// The host's steps take their arguments from the same OCI spec.

// CgroupResources are the OCI spec's resources in cgroupctl's terms
// (cgroup.ResourcesOf, the one conversion): the cgroup step's limits,
// with Docker's device rules, or every device when privileged, and the
// rules of --device after them.
func CgroupResources(r *specs.LinuxResources, privileged bool) cgroup.Resources {
	res := cgroup.ResourcesOf(r)
	res.Devices = "docker"
	if privileged {
		res.Devices = "all"
	}
	if r == nil {
		return res
	}
	var rules []string
	for _, d := range r.Devices {
		if d.Allow && d.Type != "" && d.Type != "a" {
			rules = append(rules, devicefilter.OCIRule(d))
		}
	}
	res.DeviceRules = strings.Join(rules, ",")
	return res
}

// Host is what the host's steps are made from: the container's places
// on the host, its limits, and the host's side of its network.
type Host struct {
	ID, Root                 string
	Lower                    []string // image layers, top-most first (overlayfs's order)
	Upper, Work, Merged      string
	Volatile                 bool // removed when it ends (--rm): its upper layer is never synced
	Resources                *specs.LinuxResources
	Privileged               bool
	OwnNetns, Bridged, NoNet bool   // a netns of its own; wired to a bridge; --network none
	Netns, HostVeth          string // md-ID12, vethXXXXXXX
	Addr, Gateway, Bridge    string
	MAC                      string // eth0's: --mac-address, or derived from Addr (network.MACFor)
}

// HostStep is one step on the host, before the container's first
// process: the tool that does it by hand and its typed arguments. The
// engine does each in-process through the tool's package, and
// --explain prints it as the tool's command.
type HostStep struct {
	Tool  string // overlay, cgroupctl, vethctl, ip
	Stage string // its name in --timings
	Args  HostArgs
}

// HostArgs are a host step's typed arguments.
type HostArgs interface {
	// Flags are the tool's command line after its path.
	Flags() []string
}

// OverlayMount is overlay mount: the image's layers under a fresh
// upper layer, with the short links of --root (lesson 04).
type OverlayMount struct {
	Root                string
	Lower               []string
	Upper, Work, Merged string
	Volatile            bool // run --rm: the upper layer is never synced (overlay --volatile)
}

// Flags renders overlay mount's command line.
func (o OverlayMount) Flags() []string {
	f := []string{"mount", "--root", o.Root, "--lower", strings.Join(o.Lower, ":"), "--upper", o.Upper, "--work", o.Work}
	if o.Volatile {
		f = append(f, "--volatile")
	}
	return append(f, o.Merged)
}

// CgroupCreate is cgroupctl create: the group, its limits and the
// device rules (lesson 03).
type CgroupCreate struct {
	Name, Parent string
	Resources    cgroup.Resources
}

// Flags renders cgroupctl create's command line.
func (c CgroupCreate) Flags() []string {
	f := append([]string{"create", c.Name, "--parent", c.Parent}, c.Resources.Flags()...)
	return append(f, "--devices", c.Resources.Devices)
}

// NetnsAdd is vethctl netns add: a named network namespace, so it can
// be set up before the chain joins it (lesson 05).
type NetnsAdd struct{ Name string }

// Flags renders vethctl netns add's command line.
func (n NetnsAdd) Flags() []string { return []string{"netns", "add", n.Name} }

// VethCreate is vethctl create: the pair, eth0 in the namespace with its
// address and route, the host's end on the bridge (lesson 05).
type VethCreate struct{ Host, Netns, Addr, MAC, Gateway, Bridge string }

// Flags renders vethctl create's command line.
func (v VethCreate) Flags() []string {
	return []string{"create", v.Host, "eth0", "--netns", v.Netns, "--addr", v.Addr, "--mac", v.MAC, "--gateway", v.Gateway, "--bridge", v.Bridge}
}

// Netconf is what Docker sets in every container's network namespace:
// any user may bind ports below 1024 and send pings (the namespace is the
// container's own, so this opens nothing on the host); with --network
// none, lo up (the lo up step). IPv6 stays on, as Docker 26 leaves it: lo
// gets ::1/128 beside 127.0.0.1/8 (Docker 20.10 turned IPv6 off there).
type Netconf struct {
	Netns string
	None  bool
}

// Flags renders the step as ip netns exec ... sysctl.
func (n Netconf) Flags() []string {
	return []string{"netns", "exec", n.Netns, "sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0", "net.ipv4.ping_group_range=0 2147483647"}
}

// LoUp is ip link set lo up, which the netconf step already does in
// the namespace: printed so that the script does it too.
type LoUp struct{ Netns string }

// Flags renders ip's command line.
func (l LoUp) Flags() []string { return []string{"-n", l.Netns, "link", "set", "lo", "up"} }

// HostSteps are h's steps on the host, in order: the root filesystem,
// the cgroup, then the network namespace (none with --network host),
// wired to a bridge or left with lo only.
func HostSteps(h *Host) []HostStep {
	steps := []HostStep{
		{"overlay", "overlay", OverlayMount{Root: h.Root, Lower: h.Lower, Upper: h.Upper, Work: h.Work, Merged: h.Merged, Volatile: h.Volatile}},
		{"cgroupctl", "cgroup", CgroupCreate{Name: h.ID, Parent: CgroupParent, Resources: CgroupResources(h.Resources, h.Privileged)}},
	}
	if !h.OwnNetns {
		return steps
	}
	steps = append(steps, HostStep{"vethctl", "netns", NetnsAdd{Name: h.Netns}})
	if h.Bridged {
		steps = append(steps, HostStep{"vethctl", "veth", VethCreate{Host: h.HostVeth, Netns: h.Netns, Addr: h.Addr, MAC: h.MAC, Gateway: h.Gateway, Bridge: h.Bridge}})
	}
	steps = append(steps, HostStep{"ip", "netconf", Netconf{Netns: h.Netns, None: h.NoNet}})
	if h.NoNet {
		steps = append(steps, HostStep{"ip", "lo up", LoUp{Netns: h.Netns}})
	}
	return steps
}
