// Package plan turns a container's spec into the ordered steps that
// make it from inside its namespaces, each naming its tool and its
// typed arguments, and renders those steps two ways: the chain of tools
// that --explain prints and run --tool-chain execs (unshare → cgroupctl
// exec → chroot --pivot → seccompctl run → capctl run → mini-docker
// __execin → COMMAND), and the configuration mini-docker-inside reads to
// do the same steps in one process (the default). Both renderings come
// from the same steps, so they cannot drift; the engine's tests check
// that for every run flag.
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package plan

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/chroot/jail"
	"mini-docker/internal/rlimit"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/inside/input"
	"mini-docker/mini-docker/spec"
)

// Spec is what the steps inside the namespaces are made from: the
// container's OCI runtime spec read into the tools' terms (see
// mini-docker/engine/ocispec.go), and the cgroup it joins.
type Spec struct {
	ID        string // the container, and its cgroup's name
	Hostname  string
	NetnsPath string // /run/netns/NAME to join; "" keeps the host's network
	Userns    bool   // a user namespace mapping root to root
	CgroupNS  bool   // a cgroup namespace (cgroup v2 hosts, as Docker)
	CgroupV1  []string
	CgroupV2  string        // the group's directories, for mini-docker-inside
	Merged    string        // the root: the overlay mount
	Mounts    []specs.Mount // bind mounts: the /etc files, the volumes, the init
	ReadOnly  bool
	Shm       string              // /dev/shm's size in bytes, "" for chroot's 64m
	Rlimits   []specs.POSIXRlimit // --ulimit
	Devices   []input.Device      // --device, the host's nodes chroot makes again
	Workdir   string
	User      string
	Security  spec.Security
	Caps      spec.CapSpec
	KeepCaps  []string // the capabilities the container keeps, without CAP_
	Console   bool     // -t in the foreground: a terminal made inside
	Argv      []string // with --init, the init and "--" first
}

// CgroupParent is the cgroup every container's group is made in.
const CgroupParent = "mini-docker"

// ExecInArg is mini-docker's hidden last hop: close inherited
// descriptors (and make -t's terminal), then exec the command.
const ExecInArg = "__execin"

// Step is one step inside the namespaces: the tool that does it and its
// typed arguments.
type Step struct {
	Tool  string // the toolkit program: unshare, cgroupctl, chroot, seccompctl, capctl, mini-docker; or the host's prlimit
	Stage string // its name in --timings
	Args  Args
}

// Args are a step's typed arguments, rendered both ways.
type Args interface {
	// Flags are the tool's command line after its path, to its "--".
	Flags() []string
	// Configure records the step in mini-docker-inside's configuration.
	Configure(in *container.Inside)
}

// Namespaces is unshare: the new namespaces, the network one to join,
// the hostname.
type Namespaces struct {
	Cgroup, User        bool
	NetnsPath, Hostname string
}

// Flags renders unshare's command line.
func (n Namespaces) Flags() []string {
	f := []string{"--mount", "--uts", "--ipc", "--pid"}
	if n.Cgroup {
		f = append(f, "--cgroup")
	}
	if n.User {
		f = append(f, "--user", "--map-root-user")
	}
	if n.NetnsPath != "" {
		f = append(f, "--net-path", n.NetnsPath)
	}
	return append(f, "--hostname", n.Hostname, "--")
}

// Configure records the namespaces (the parent clones with them).
func (n Namespaces) Configure(in *container.Inside) {
	in.Hostname, in.Userns, in.CgroupNS, in.Netns = n.Hostname, n.User, n.Cgroup, n.NetnsPath
}

// CgroupJoin is cgroupctl exec: join the container's group.
type CgroupJoin struct {
	Name, Parent string
	V1           []string // the group's directory in each v1 hierarchy
	V2           string   // its cgroup2 directory
}

// Flags renders cgroupctl exec's command line.
func (c CgroupJoin) Flags() []string {
	return []string{"exec", "--name", c.Name, "--parent", c.Parent, "--"}
}

// Configure records the group's directories.
func (c CgroupJoin) Configure(in *container.Inside) { in.CgroupV1, in.CgroupV2 = c.V1, c.V2 }

// Prlimit is util-linux prlimit: the process's resource limits
// (--ulimit), inherited by every program after it. It comes before the
// pivot, as runc sets them before its init runs: the host's prlimit is
// out of sight after it, and raising a hard limit needs
// CAP_SYS_RESOURCE, which capctl drops.
type Prlimit struct{ Limits []specs.POSIXRlimit }

// Flags renders prlimit's command line.
func (p Prlimit) Flags() []string { return append(rlimit.PrlimitFlags(p.Limits), "--") }

// Configure records the limits.
func (p Prlimit) Configure(in *container.Inside) { in.Rlimits = p.Limits }

// Pivot is chroot --pivot --docker: Docker's mounts, the binds, the new
// root, the working directory.
type Pivot struct {
	Root                 string
	Privileged, ReadOnly bool
	Mounts               []specs.Mount
	Shm                  string // --shm: /dev/shm's size ("" = 64m)
	Devices              []input.Device
	Workdir              string
}

// Flags renders chroot's command line.
func (p Pivot) Flags() []string {
	f := []string{"--pivot", "--docker"}
	if p.Privileged {
		// Docker's mounts without its masks and read-only paths, /sys
		// and the cgroup tree read-write, the host's devices in /dev.
		f = append(f, "--privileged")
	}
	binds, tmpfs := jail.OCIMounts(p.Mounts)
	for _, b := range binds {
		f = append(f, "--bind", b.Flag())
	}
	for _, t := range tmpfs {
		f = append(f, "--tmpfs", t.Flag())
	}
	for _, d := range p.Devices {
		f = append(f, "--device", d.Host+":"+d.Container)
	}
	if p.Shm != "" {
		f = append(f, "--shm", p.Shm)
	}
	if p.ReadOnly {
		f = append(f, "--read-only")
	}
	return append(f, "--workdir", p.Workdir, p.Root, "--")
}

// Configure records the root and its mounts.
func (p Pivot) Configure(in *container.Inside) {
	in.Root, in.ReadOnly, in.Mounts, in.Shm, in.Workdir = p.Root, p.ReadOnly, p.Mounts, p.Shm, p.Workdir
	in.Devices = p.Devices
	in.Privileged = in.Privileged || p.Privileged
}

// Seccomp is seccompctl run: the profile, its capability-gated rules
// decided by the capabilities the container keeps.
type Seccomp struct {
	Profile string
	Caps    []string
}

// Flags renders seccompctl run's command line.
func (s Seccomp) Flags() []string {
	return []string{"run", "--profile", s.Profile, "--caps", strings.Join(s.Caps, ","), "--"}
}

// Configure records the filter.
func (s Seccomp) Configure(in *container.Inside) { in.Seccomp, in.SeccompCaps = s.Profile, s.Caps }

// Caps is capctl run: Docker's capability set with the flags' changes
// (or all of them), the user, no_new_privs.
type Caps struct {
	Privileged bool
	Add, Drop  []string
	User       string
	Groups     []string // --group-add
	NoNewPrivs bool
}

// Flags renders capctl run's command line.
func (c Caps) Flags() []string {
	f := []string{"run"}
	if c.Privileged {
		f = append(f, "--privileged")
	} else {
		f = append(f, "--docker-default")
		for _, x := range c.Add {
			f = append(f, "--cap-add", x)
		}
		for _, x := range c.Drop {
			f = append(f, "--cap-drop", x)
		}
	}
	if c.User != "" {
		f = append(f, "--user", c.User)
	}
	for _, g := range c.Groups {
		f = append(f, "--group-add", g)
	}
	if c.NoNewPrivs {
		f = append(f, "--no-new-privs")
	}
	return append(f, "--")
}

// Configure records the capabilities and the user.
func (c Caps) Configure(in *container.Inside) {
	in.CapAdd, in.CapDrop, in.User, in.Groups, in.NoNewPrivs = c.Add, c.Drop, c.User, c.Groups, c.NoNewPrivs
	in.Privileged = in.Privileged || c.Privileged
}

// ExecIn is mini-docker __execin: -t's terminal, then only 0, 1 and 2
// left open, then the command.
type ExecIn struct {
	Dir       string // the working directory; "" stays where the pivot left it
	Console   bool
	ConsoleFd int // the console socket's descriptor in the chain
}

// Flags renders __execin's command line.
func (x ExecIn) Flags() []string {
	dir := x.Dir
	if dir == "" {
		dir = "."
	}
	f := []string{ExecInArg, dir}
	if x.Console {
		// -t: the last hop makes the terminal inside the container's
		// own /dev/pts and sends its master end back on this socket.
		f = append(f, "--console-socket", strconv.Itoa(x.ConsoleFd))
	}
	return append(f, "--")
}

// Configure records -t, and exec's working directory.
func (x ExecIn) Configure(in *container.Inside) {
	in.Console = x.Console
	if x.Dir != "" {
		in.Workdir = x.Dir
	}
}

// Steps are s's steps inside the namespaces, in order.
func Steps(s *Spec) []Step {
	join := Step{"cgroupctl", "cgroup join", CgroupJoin{Name: s.ID, Parent: CgroupParent, V1: s.CgroupV1, V2: s.CgroupV2}}
	var steps []Step
	if s.CgroupNS {
		// A new cgroup namespace takes the caller's cgroup as its root at
		// the moment unshare(2) makes it. Docker (runc) joins the
		// container's cgroup first, so the container sees it as "/":
		// join here, before unshare, and the namespace is made inside it.
		// (unshare's waiting parent is then in the group too, outside the
		// PID namespace: one more task and a few MiB counted there.)
		steps = append(steps, join)
	}
	steps = append(steps, Step{"unshare", "namespaces", Namespaces{Cgroup: s.CgroupNS, User: s.Userns, NetnsPath: s.NetnsPath, Hostname: s.Hostname}})
	if !s.CgroupNS {
		// No cgroup namespace (v1 and hybrid hosts, as Docker): join from
		// inside the new PID namespace, the container's PID 1 itself.
		steps = append(steps, join)
	}
	if len(s.Rlimits) > 0 {
		steps = append(steps, Step{"prlimit", "rlimits", Prlimit{Limits: s.Rlimits}})
	}
	steps = append(steps, Step{"chroot", "pivot", Pivot{Root: s.Merged, Privileged: s.Caps.Privileged, ReadOnly: s.ReadOnly, Mounts: s.Mounts, Shm: s.Shm, Devices: s.Devices, Workdir: s.Workdir}})
	if s.Security.Seccomp != "unconfined" {
		steps = append(steps, Step{"seccompctl", "seccomp", Seccomp{Profile: s.Security.Seccomp, Caps: s.KeepCaps}})
	}
	// Always a user, root when the image names none: capctl resolves a
	// bare "0" as Docker resolves an empty user, uid 0 with the primary
	// group from the image's /etc/passwd and root's supplementary groups
	// from its /etc/group, instead of the groups inherited from whoever
	// ran mini-docker. (Not in a user namespace of one mapped ID:
	// setgroups(2) is refused there, and root is the only user anyway.)
	user := s.User
	if user == "" && !s.Userns {
		user = "0"
	}
	steps = append(steps, Step{"capctl", "caps", Caps{Privileged: s.Caps.Privileged, Add: s.Caps.CapAdd, Drop: s.Caps.CapDrop, User: user, Groups: s.Caps.GroupAdd, NoNewPrivs: s.Security.NoNewPrivs}})
	return append(steps, Step{"mini-docker", "close fds", ExecIn{Console: s.Console}})
}

// Join is unshare join: enter the namespaces of the container's first
// process (docker exec). It enters the container's mount namespace, so
// like the pivot of a run it leaves the host's files behind.
type Join struct{ Pid int }

// Flags renders unshare join's command line.
func (j Join) Flags() []string { return []string{"join", strconv.Itoa(j.Pid), "--"} }

// Configure records the process to join (mini-docker-inside joins it
// on its main thread, ns.EnterThread).
func (j Join) Configure(in *container.Inside) { in.Join = j.Pid }

// Exec is what docker exec's chain is made from: the running
// container, its seccomp profile and kept capabilities as its run
// recorded them, and exec's own process.
type Exec struct {
	ID       string
	CgroupV1 []string // the group's directories, for mini-docker-inside
	CgroupV2 string
	Pid      int    // the container's first process, whose namespaces it joins
	Seccomp  string // "" or "unconfined": no filter
	KeepCaps []string
	Caps     Caps // the run's capabilities, with exec's user
	Workdir  string
	Console  bool // -t in the foreground
}

// ExecOf is docker exec's process in the running container c: the
// filter, capabilities and no_new_privs its run recorded, with exec's
// own user and working directory when given, the container's otherwise
// (no default root here: exec runs as the container's user).
func ExecOf(c *container.Container, user, workdir string, console bool) *Exec {
	hc := c.HostConfig
	user = cmp.Or(user, c.Config.User)
	if user == "" && len(hc.GroupAdd) > 0 && !c.Runtime.Userns {
		// --group-add's groups are for a user: root's, as in the run.
		user = "0"
	}
	return &Exec{ID: c.ID, Pid: c.State.Pid, Seccomp: c.Runtime.Seccomp, KeepCaps: c.Runtime.Caps,
		Caps: Caps{Privileged: hc.Privileged, Add: hc.CapAdd, Drop: hc.CapDrop,
			User: user, Groups: hc.GroupAdd, NoNewPrivs: c.Runtime.NoNewPrivs},
		Workdir: cmp.Or(workdir, c.Config.WorkingDir, "/"), Console: console}
}

// ExecSteps are the steps of docker exec, in order: join the group,
// join the namespaces (and so the root), then the same filter,
// capabilities and last hop as the run's chain.
func ExecSteps(x *Exec) []Step {
	steps := []Step{
		{"cgroupctl", "cgroup join", CgroupJoin{Name: x.ID, Parent: CgroupParent, V1: x.CgroupV1, V2: x.CgroupV2}},
		{"unshare", "namespaces", Join{Pid: x.Pid}},
	}
	if x.Seccomp != "unconfined" && x.Seccomp != "" {
		steps = append(steps, Step{"seccompctl", "seccomp", Seccomp{Profile: x.Seccomp, Caps: x.KeepCaps}})
	}
	steps = append(steps, Step{"capctl", "capabilities", x.Caps})
	return append(steps, Step{"mini-docker", "close fds", ExecIn{Dir: x.Workdir, Console: x.Console}})
}

// Chain is the steps rendered as the chain of tools.
type Chain struct {
	Argv []string // unshare ... -- CMD
	// Files are the tools that run inside the new root (after the
	// pivot), passed as descriptors 3, 4, ... and exec'd as
	// /proc/self/fd/N: the host's files are out of sight there.
	Files []string
	// Hops are the indexes in Argv of the programs named by their host
	// path (before the pivot): run --tool-chain execs them through
	// read-only descriptors too, after Files and -t's socket.
	Hops []int
	// Comms names the stage of each program by the command name the
	// kernel shows for it (/proc/PID/comm), for --timings.
	Comms map[string]string
}

// RenderChain renders steps as the chain of tools that ends in argv;
// path gives each tool's file on the host. The tools up to the pivot (or
// exec's join) are hops, named by their host path; those after it are
// files.
func RenderChain(steps []Step, argv []string, path func(tool string) string) *Chain {
	c := &Chain{Comms: map[string]string{"exe": "setns (re-exec)"}}
	pivot := slices.IndexFunc(steps, func(st Step) bool {
		_, join := st.Args.(Join)
		return st.Tool == "chroot" || join
	})
	console := false
	var hopStages []string
	for i, st := range steps {
		args := st.Args
		if i <= pivot {
			c.Hops = append(c.Hops, len(c.Argv))
			c.Argv = append(c.Argv, path(st.Tool))
			c.Comms[st.Tool] = st.Stage
			hopStages = append(hopStages, st.Stage)
		} else {
			c.Files = append(c.Files, path(st.Tool))
			fd := strconv.Itoa(2 + len(c.Files))
			c.Argv = append(c.Argv, "/proc/self/fd/"+fd)
			c.Comms[fd] = st.Stage
		}
		if x, ok := args.(ExecIn); ok {
			x.ConsoleFd, console = 3+len(steps)-1-pivot, x.Console
			args = x
		}
		c.Argv = append(c.Argv, args.Flags()...)
	}
	c.Argv = append(c.Argv, argv...)
	// Each hop runs through a descriptor: /proc/PID/comm shows its
	// number, the stage is its tool's.
	for k, stage := range hopStages {
		c.Comms[strconv.Itoa(HopFd(len(c.Files), console, k))] = stage
	}
	return c
}

// HopFd is the descriptor hop k of a chain is exec'd through: after the
// tools passed as descriptors 3, 4, ... (files) and -t's console socket.
func HopFd(files int, console bool, k int) int {
	n := 3 + files + k
	if console {
		n++
	}
	return n
}

// RenderInside renders steps as mini-docker-inside's configuration:
// program is the inside program, argv the command it execs.
func RenderInside(steps []Step, argv []string, program string) *container.Inside {
	in := &container.Inside{Program: program, Seccomp: "unconfined", Argv: argv}
	for _, st := range steps {
		st.Args.Configure(in)
	}
	return in
}
