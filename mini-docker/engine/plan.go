package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
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
	CgroupParent   = "mini-docker"
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
	// descriptors 3, 4, ... (read-only, see hops.go; the printed script
	// opens them with shell redirections).
	Files []string
	// Hops are the indexes in Chain of the programs named by their host
	// path (unshare, cgroupctl, chroot): run --tool-chain execs them
	// through read-only descriptors too, after Files (hops.go).
	Hops []int
	// Comms names the stage of each program of the chain by the command
	// name the kernel shows for it (/proc/PID/comm), for --timings.
	Comms map[string]string
	// Caps are the capabilities the container keeps (names without
	// CAP_), recorded so that exec gives its processes the same.
	Caps []string
	// Inside is the chain from unshare on as data, for mini-docker's
	// own process that does those steps without exec'ing each tool
	// (inside.go).
	Inside *container.Inside
}

// ChainLine is the chain as one shell line, started with env -i so that
// the container sees exactly its own environment, and with the inside
// tools opened as descriptors 3, 4, ...
func (p *Plan) ChainLine() string { return chainLine(p.Env, p.Chain, p.Files) }

// Spec is everything the plan is made from.
type Spec struct {
	ID       string
	Self     string // mini-docker's own executable
	Root     string // state root
	Hostname string
	Tools    Tools
	Lower    []string // image layers, base first
	Upper    string
	Work     string
	Merged   string
	Limits   Limits
	Network  string // bridge, none, host
	Netns    string // md-ID12 (bridge)
	HostVeth string // vethXXXXXXX (bridge)
	Addr     string // 172.18.0.2/16 (bridge)
	Gateway  string
	Bridge   string
	Etc      EtcFiles
	Binds    []Bind
	ReadOnly bool
	Workdir  string
	User     string
	Security Security
	Caps     CapSpec
	Userns   bool
	Console  bool // -t in the foreground: a terminal made inside (see console.go)
	CgroupNS bool // new cgroup namespace (cgroup v2 hosts, as Docker)
	Init     string
	Argv     []string
	Env      []string
}

// CapSpec is the capability part of the run flags.
type CapSpec struct {
	Privileged      bool
	CapAdd, CapDrop []string
}

// BuildPlan turns a Spec into commands. It fails with a
// MissingToolError when a stage's tool is not built.
func BuildPlan(s *Spec) (*Plan, error) {
	p := &Plan{Env: s.Env, Comms: map[string]string{"unshare": "namespaces", "exe": "setns (re-exec)", "cgroupctl": "cgroup join", "chroot": "pivot"}}
	tool := func(name, stage string) (string, error) { return s.Tools.Path(name, stage) }

	// Root filesystem: the image's layers under a fresh upper layer.
	overlay, err := tool("overlay", "overlay mount")
	if err != nil {
		return nil, err
	}
	lower := make([]string, len(s.Lower))
	for i, l := range s.Lower { // overlayfs lists the top-most layer first
		lower[len(s.Lower)-1-i] = l
	}
	// The overlay, cgroup, netns and netconf steps run in-process through
	// the tool's own package (the same code, without starting a program);
	// the veth step starts vethctl, as do the bridge, the address lease
	// and freeze outside the plan (runTool). --explain prints every step
	// as the tool's command, which does the same by hand.
	mount := []string{overlay, "mount", "--root", s.Root, "--lower", strings.Join(lower, ":"), "--upper", s.Upper, "--work", s.Work, s.Merged}
	p.Steps = append(p.Steps, Step{Stage: "overlay", Do: mount,
		Fn: func() error {
			_, err := overlayfs.Mount(overlayfs.Options{Lower: lower, Upper: s.Upper, Work: s.Work, Merged: s.Merged,
				LinkDir: filepath.Join(s.Root, "overlay", "l")}, nil) // as overlay mount --root ROOT
			return stepError(mount, err)
		}})

	// The cgroup, with the limits.
	cgroupctl, err := tool("cgroupctl", "cgroup")
	if err != nil {
		return nil, err
	}
	create := []string{cgroupctl, "create", s.ID, "--parent", CgroupParent}
	create = append(create, limitFlags(s.Limits)...)
	// Device access (v1 devices controller): Docker's default rules (deny
	// everything, then allow null, zero, full, random, urandom, tty,
	// ptmx, pts and mknod of any), or every device with --privileged.
	res := cgroup.Resources{Memory: s.Limits.Memory, MemorySwap: s.Limits.MemorySwap, NanoCPUs: s.Limits.NanoCPUs,
		CPUShares: uint64(max(s.Limits.CPUShares, 0)), PidsLimit: max(s.Limits.PidsLimit, 0), Devices: "docker"}
	if s.Caps.Privileged {
		res.Devices = "all"
	}
	create = append(create, "--devices", res.Devices)
	p.Steps = append(p.Steps, Step{Stage: "cgroup", Do: create,
		Fn: func() error {
			h, err := hostCgroups()
			if err == nil {
				_, _, err = cgroup.Create(h, CgroupParent, s.ID, res, nil)
			}
			return stepError(create, err)
		}})

	// The network namespace: a named one (so it can be set up before the
	// chain joins it), wired to the bridge unless --network none.
	if s.Network == "bridge" || s.Network == "none" {
		vethctl, err := tool("vethctl", "network")
		if err != nil {
			return nil, err
		}
		add := []string{vethctl, "netns", "add", s.Netns}
		p.Steps = append(p.Steps, Step{Stage: "netns", Do: add,
			Fn: func() error {
				_, err := network.NetnsAdd(s.Netns, nil)
				return stepError(add, err)
			}})
		if s.Network == "bridge" {
			p.Steps = append(p.Steps, Step{Stage: "veth",
				Do: []string{vethctl, "create", s.HostVeth, "eth0", "--netns", s.Netns,
					"--addr", s.Addr, "--gateway", s.Gateway, "--bridge", s.Bridge}})
		}
		// What Docker sets in every container's network namespace: any
		// user may bind ports below 1024 and send pings (the namespace is
		// the container's own, so this opens nothing on the host), and a
		// loopback that is up even with --network none.
		nsPath := filepath.Join("/run/netns", s.Netns)
		p.Steps = append(p.Steps, Step{Stage: "netconf",
			Do: sysctlCmd(s.Netns, s.Network == "none"),
			Fn: func() error { return ConfigureNetns(nsPath, s.Network == "none") }})
		if s.Network == "none" {
			p.Steps = append(p.Steps, Step{Stage: "lo up", Do: []string{"ip", "-n", s.Netns, "link", "set", "lo", "up"},
				Fn: func() error { return nil }}) // done by the step above
		}
	}

	// The chain.
	unshare, err := tool("unshare", "namespaces")
	if err != nil {
		return nil, err
	}
	join := []string{cgroupctl, "exec", "--name", s.ID, "--parent", CgroupParent, "--"}
	var chain []string
	if s.CgroupNS {
		// A new cgroup namespace takes the caller's cgroup as its root at
		// the moment unshare(2) makes it. Docker (runc) joins the
		// container's cgroup first, so the container sees it as "/":
		// join here, before unshare, and the namespace is made inside it.
		// (unshare's waiting parent is then in the group too, outside the
		// PID namespace: one more task and a few MiB counted there.)
		chain = hop(chain, &p.Hops, join...)
	}
	chain = hop(chain, &p.Hops, unshare, "--mount", "--uts", "--ipc", "--pid")
	if s.CgroupNS {
		chain = append(chain, "--cgroup")
	}
	if s.Userns {
		chain = append(chain, "--user", "--map-root-user")
	}
	switch s.Network {
	case "bridge", "none":
		chain = append(chain, "--net-path", filepath.Join("/run/netns", s.Netns))
	}
	chain = append(chain, "--hostname", s.Hostname, "--")

	if !s.CgroupNS {
		// No cgroup namespace (v1 and hybrid hosts, as Docker): join from
		// inside the new PID namespace, the container's PID 1 itself.
		chain = hop(chain, &p.Hops, join...)
	}

	chroot, err := tool("chroot", "pivot")
	if err != nil {
		return nil, err
	}
	chain = hop(chain, &p.Hops, chroot, "--pivot", "--docker")
	if s.Caps.Privileged {
		// Docker's mounts without its masks and read-only paths, /sys
		// and the cgroup tree read-write, the host's devices in /dev.
		chain = append(chain, "--privileged")
	}
	binds := chrootBinds(s)
	for _, v := range binds {
		chain = append(chain, "--bind", v)
	}
	if s.ReadOnly {
		chain = append(chain, "--read-only")
	}
	chain = append(chain, "--workdir", s.Workdir, s.Merged, "--")

	// After the pivot the host's files are out of sight, so the tools
	// that work inside the new root (seccompctl, capctl) and the last hop
	// (mini-docker __execin: close inherited descriptors, exec CMD) come
	// in as open files: descriptors 3, 4, 5, exec'd as /proc/self/fd/N.
	inside := func(path string) string {
		p.Files = append(p.Files, path)
		return "/proc/self/fd/" + strconv.Itoa(2+len(p.Files))
	}
	caps, err := effectiveCaps(s.Caps)
	if err != nil {
		return nil, err
	}
	p.Caps = caps
	if s.Security.Seccomp != "unconfined" {
		seccompctl, err := tool("seccompctl", "seccomp")
		if err != nil {
			return nil, err
		}
		fd := inside(seccompctl)
		p.Comms[filepath.Base(fd)] = "seccomp"
		chain = append(chain, fd, "run", "--profile", s.Security.Seccomp, "--caps", strings.Join(caps, ","), "--")
	}

	{
		capctl, err := tool("capctl", "capabilities")
		if err != nil {
			return nil, err
		}
		fd := inside(capctl)
		p.Comms[filepath.Base(fd)] = "caps"
		chain = append(chain, fd, "run")
		if s.Caps.Privileged {
			chain = append(chain, "--privileged")
		} else {
			chain = append(chain, "--docker-default")
			for _, c := range s.Caps.CapAdd {
				chain = append(chain, "--cap-add", c)
			}
			for _, c := range s.Caps.CapDrop {
				chain = append(chain, "--cap-drop", c)
			}
		}
		// Always a user, root when the image names none: capctl resolves
		// a bare "0" as Docker resolves an empty user, uid 0 with the
		// primary group from the image's /etc/passwd and root's
		// supplementary groups from its /etc/group, instead of the
		// groups inherited from whoever ran mini-docker.
		// (Not in a user namespace of one mapped ID: setgroups(2) is
		// refused there, and root is the only user anyway.)
		user := s.User
		if user == "" && !s.Userns {
			user = "0"
		}
		if user != "" {
			chain = append(chain, "--user", user)
		}
		if s.Security.NoNewPrivs {
			chain = append(chain, "--no-new-privs")
		}
		chain = append(chain, "--")
	}
	if len(p.Files) > 0 {
		fd := inside(s.Self)
		p.Comms[filepath.Base(fd)] = "close fds"
		chain = append(chain, fd, ExecInArg, ".")
		if s.Console {
			// -t: the last hop makes the terminal inside the container's
			// own /dev/pts and sends its master end back on this socket.
			chain = append(chain, "--console-socket", strconv.Itoa(3+len(p.Files)))
		}
		chain = append(chain, "--")
	}
	if s.Init != "" {
		chain = append(chain, InitPath, "--")
	}
	p.Chain = append(chain, s.Argv...)
	// Each hop runs through a descriptor: /proc/PID/comm shows its
	// number, the stage is its tool's.
	for k, i := range p.Hops {
		p.Comms[strconv.Itoa(hopFd(len(p.Files), s.Console, k))] = p.Comms[filepath.Base(p.Chain[i])]
	}
	return p, insidePlan(s, p, binds)
}

// chrootBinds is chroot's --bind list, SRC:DST[:ro]: the /etc files
// (read-only with --read-only, as Docker does), the volumes, the init.
func chrootBinds(s *Spec) []string {
	var binds []string
	for _, b := range []struct{ src, dst string }{
		{s.Etc.ResolvConf, "/etc/resolv.conf"}, {s.Etc.Hostname, "/etc/hostname"}, {s.Etc.Hosts, "/etc/hosts"},
	} {
		v := b.src + ":" + b.dst
		if s.ReadOnly {
			v += ":ro"
		}
		binds = append(binds, v)
	}
	for _, b := range s.Binds {
		v := b.Source + ":" + b.Target
		if b.ReadOnly {
			v += ":ro"
		}
		binds = append(binds, v)
	}
	if s.Init != "" {
		binds = append(binds, s.Init+":"+InitPath+":ro")
	}
	return binds
}

// insidePlan records the chain's steps from unshare on as data: the same
// namespaces, cgroup, mounts, filter, capabilities and command.
func insidePlan(s *Spec, p *Plan, binds []string) error {
	prog, err := s.Tools.Path("mini-docker-inside", "namespaces")
	if err != nil {
		return err
	}
	in := &container.Inside{Program: prog,
		Hostname: s.Hostname, Userns: s.Userns, CgroupNS: s.CgroupNS,
		Root: s.Merged, Privileged: s.Caps.Privileged, ReadOnly: s.ReadOnly, Workdir: s.Workdir,
		Seccomp: s.Security.Seccomp, SeccompCaps: p.Caps,
		CapAdd: s.Caps.CapAdd, CapDrop: s.Caps.CapDrop, User: s.User, NoNewPrivs: s.Security.NoNewPrivs,
		Console: s.Console,
	}
	if in.User == "" && !s.Userns {
		in.User = "0" // as the chain's capctl --user 0
	}
	if s.Network == "bridge" || s.Network == "none" {
		in.Netns = filepath.Join("/run/netns", s.Netns)
	}
	// The group's directories, when this host has cgroups (a plan built
	// without them fails at the start, where the cgroup step does).
	if h, err := hostCgroups(); err == nil {
		if g, err := cgroup.New(h, CgroupParent, s.ID); err == nil {
			in.CgroupV1, in.CgroupV2 = g.SplitDirs()
		}
	}
	in.Binds = binds // the same list as chroot --bind gets
	if s.Init != "" {
		in.Argv = append(in.Argv, InitPath, "--")
	}
	in.Argv = append(in.Argv, s.Argv...)
	p.Inside = in
	return nil
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

// InitPath is where --init's init is bind-mounted, as Docker does.
const InitPath = "/sbin/docker-init"

func limitFlags(l Limits) []string {
	var f []string
	if l.Memory > 0 {
		f = append(f, "--memory", strconv.FormatInt(l.Memory, 10))
	}
	if l.MemorySwap != 0 {
		f = append(f, "--memory-swap", strconv.FormatInt(l.MemorySwap, 10))
	}
	if l.NanoCPUs > 0 {
		f = append(f, "--cpus", strconv.FormatFloat(float64(l.NanoCPUs)/1e9, 'f', -1, 64))
	}
	if l.CPUShares > 0 {
		f = append(f, "--cpu-shares", strconv.FormatInt(l.CPUShares, 10))
	}
	if l.PidsLimit > 0 {
		f = append(f, "--pids-limit", strconv.FormatInt(l.PidsLimit, 10))
	}
	return f
}

// effectiveCaps is the set the container keeps, which gates the seccomp
// profile's capability-dependent rules (as Docker's profile does). The
// rules are capctl's own (Docker's: ALL in --cap-add starts from every
// capability, --cap-drop then removes; ALL in --cap-drop starts empty).
func effectiveCaps(c CapSpec) ([]string, error) {
	set, err := caps.Compute(caps.DockerDefault, c.CapAdd, c.CapDrop, c.Privileged)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	names := set.DockerNames()
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "CAP_")
	}
	return names, nil
}
