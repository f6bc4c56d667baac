package engine

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mobynet "github.com/moby/moby/api/types/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/portmap"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/logs"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/mounts"
)

// Attach says how a start connects to the terminal.
type Attach struct {
	Detach bool
	Stdin  bool // -i
	TTY    bool // -t
	// Client, with Detach, is the monitor's end of a connected unix
	// socket: the client at the other end is attached before the
	// container runs (start -a; package attach).
	Client *os.File
	// Restart says the restart policy starts it (package engine/restart),
	// not the user, whose start resets the policy's count and back-off.
	Restart bool
}

// stage times one stage of a run for --timings.
func (e *Engine) stage(name string, start time.Time) {
	launch.Stage(e.Timings, name, start)
}

// Prepare does the host-side steps of a start (overlay, cgroup,
// network, /etc files) and returns the plan whose chain becomes the
// container. Each object is recorded in c before it is made, so that
// whatever happens next, release finds it. The caller holds c's lock.
func (e *Engine) Prepare(c *container.Container, a Attach) (plan *Plan, err error) {
	dir := e.Store.Dir(c.ID)
	upper, work, merged := graphDirs(dir)
	e.Explain.Argv("mkdir", "-p", upper, work, merged)
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := e.makeInitLayer(c); err != nil {
		return nil, err
	}
	if c.HostConfig.NetworkMode.IsContainer() {
		if err := networks.JoinNetns(e.Store, c, e.Explain); err != nil {
			return nil, err
		}
	}
	oci, err := e.OCISpec(c)
	if err != nil {
		return nil, err
	}
	spec := planSpec(oci, &c.HostConfig)
	spec.ID, spec.Self, spec.Root, spec.Tools = c.ID, e.self(), e.Root, e.Tools
	spec.Upper, spec.Work = upper, work
	spec.Console = a.TTY || c.Config.Tty // detached: the monitor holds the terminal
	// Disconnected from its network (network disconnect), a container
	// does not go back to it at its next start, as in Docker: its
	// namespace has lo only, and the networks connected to it besides.
	spec.Unwired = onBridge(spec.Network) && c.NetworkSettings.Networks[networks.PrimaryNetwork(c)] == nil
	var vethctl string
	if onBridge(spec.Network) && !spec.Unwired {
		var firewall func() error
		if vethctl, firewall, err = e.prepareBridge(c, spec); err != nil {
			return nil, err
		}
		// The network's rules are in place before the container can
		// send a packet (a connection that left without NAT stays so).
		defer func() {
			if ferr := firewall(); ferr != nil && err == nil {
				plan, err = nil, ferr
			}
		}()
	}
	if ownNetns(spec.Network) {
		spec.Netns = NetnsName(c.ID)
		c.NetworkSettings.SandboxKey = "/run/netns/" + spec.Netns
	}
	if err := e.etcFiles(c, spec, dir); err != nil {
		return nil, err
	}

	plan, err = BuildPlan(spec)
	if err != nil {
		return nil, err
	}
	c.Runtime.Chain, c.Runtime.Env, c.Runtime.Files, c.Runtime.Comms = plan.Chain, plan.Env, plan.Files, plan.Comms
	c.Runtime.Hops = plan.Hops
	c.Runtime.Inside = plan.Inside
	c.Runtime.Released = false
	c.Runtime.Seccomp = spec.Security.Seccomp
	c.Runtime.Caps = plan.Caps
	c.Runtime.NoNewPrivs = spec.Security.NoNewPrivs
	c.GraphDriver.Data["UpperDir"], c.GraphDriver.Data["WorkDir"], c.GraphDriver.Data["MergedDir"] = upper, work, merged
	c.NetworkSettings.Ports = mobynet.PortMap{}
	if err := e.runHostSteps(c, spec, plan); err != nil {
		return nil, err
	}
	if err := mounts.Prepare(e.Volumes(), c, merged); err != nil {
		return nil, err
	}
	if onBridge(spec.Network) {
		if err := e.connectAndPublish(c, spec, vethctl); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// etcFiles writes c's /etc files (with --network container:NAME, c has the
// other's) and adds c to the names of its user network's members.
func (e *Engine) etcFiles(c *container.Container, spec *Spec, dir string) error {
	if !spec.Network.IsContainer() {
		etc, err := networks.WriteEtcFiles(dir, c, bridgeIP(c), spec.Network == container.NetworkHost)
		if err != nil {
			return err
		}
		for _, p := range []string{etc.Hostname, etc.Hosts, etc.ResolvConf} {
			if !e.Explain.Enabled() {
				break
			}
			if b, err := os.ReadFile(p); err == nil {
				e.Explain.File(p, b) // the command that writes it, as it is now
			}
		}
		c.HostnamePath, c.HostsPath, c.ResolvConfPath = etc.Hostname, etc.Hosts, etc.ResolvConf
	}
	if !spec.Network.IsUserDefined() || spec.Unwired {
		return nil
	}
	defer e.stage("names", time.Now())
	return e.networks().UpdateHosts(e.Store, spec.bridged, c, false, e.Explain)
}

// connectAndPublish wires the networks connected to c besides its first
// (network connect), then starts its ports' forwarders, recording both.
func (e *Engine) connectAndPublish(c *container.Container, spec *Spec, vethctl string) error {
	err := e.networks().WireConnected(e.Store, c, e.Explain)
	if serr := e.Store.Save(c); err == nil {
		err = serr
	}
	if err != nil || len(portmap.Published(c)) == 0 || spec.Unwired {
		return err
	}
	ip, _, _ := strings.Cut(spec.Addr, "/")
	if err := portmap.Start(e.Explain, e.Store, vethctl, c, ip); err != nil {
		return err
	}
	return e.Store.Save(c) // the forwarders' PIDs, for release
}

// planSpec is what the plan is made from: the OCI spec read into the
// steps' terms (plan.FromOCI) with HostConfig's capability flags, and the
// host's side: the environment, the limits, the layers, the network.
func planSpec(oci *specs.Spec, hc *container.HostConfig) *Spec {
	s := plan.FromOCI(oci, spec.CapsOf(hc))
	s.Devices = plan.DevicesOf(hc.Devices)
	return &Spec{Spec: s,
		Env: oci.Process.Env, Resources: oci.Linux.Resources, Lower: strings.Split(oci.Annotations[spec.AnnotationLower], ":"), Network: hc.NetworkMode,
		AutoRemove: hc.AutoRemove}
}

// prepareBridge makes the network's bridge on first use and leases the
// address (first, so that /etc/hosts can name it), recording the lease.
// The firewall's sync, which adds the network's rules when its bridge
// is new, runs meanwhile (syncFirewallMeanwhile): firewall waits for it.
func (e *Engine) prepareBridge(c *container.Container, spec *Spec) (vethctl string, firewall func() error, err error) {
	vethctl, err = e.Tools.Path("vethctl", "network")
	if err != nil {
		return "", nil, err
	}
	n, err := e.networks().Find(spec.Network.NetworkName())
	if err != nil {
		return "", nil, err
	}
	prefix, gw := networks.Subnet(n)
	t := time.Now()
	if err := e.networks().EnsureBridge(n, e.Explain); err != nil {
		return "", nil, err
	}
	c.Runtime.Lease = "pending"
	if err := e.Store.Save(c); err != nil {
		return "", nil, err
	}
	addr, err := e.leaseAddr(n, c)
	if err != nil {
		c.Runtime.Lease = ""
		return "", nil, err
	}
	c.Runtime.Lease = addr
	e.stage("ipam", t)
	firewall = e.syncFirewallMeanwhile()
	spec.Addr, spec.Gateway, spec.Bridge, spec.MAC, spec.bridged = addr, gw.String(), networks.Bridge(n), c.Runtime.MacAddress, n
	if spec.MAC == "" {
		spec.MAC = networks.MACForLease(addr)
	}
	spec.HostVeth = networks.HostVethName()
	ip, _, _ := strings.Cut(addr, "/")
	ns := &c.NetworkSettings
	ns.Bridge = ""
	ns.MacAddress = ""
	mac := spec.MAC
	ep := &container.EndpointSetting{NetworkID: n.ID, Gateway: gw.String(), IPAddress: ip, IPPrefixLen: prefix.Bits(), MacAddress: mac}
	if old := ns.Networks[n.Name]; old != nil {
		ep.Aliases, ep.IPAMConfig = old.Aliases, old.IPAMConfig
	}
	if ns.Networks == nil {
		ns.Networks = map[string]*container.EndpointSetting{}
	}
	ns.Networks[n.Name] = ep // beside those of network connect (Prepare wires them)
	if n.Name == networks.Default {
		// Docker fills the top-level fields for the default bridge only.
		ns.IPAddress, ns.Gateway, ns.IPPrefixLen, ns.MacAddress = ip, gw.String(), prefix.Bits(), ep.MacAddress
	}
	return vethctl, firewall, nil
}

// runHostSteps records every kernel object the plan's host steps will
// make (saved once, before the first is made: whatever happens next,
// release finds them, and release tolerates one that was never made),
// then does the steps.
func (e *Engine) runHostSteps(c *container.Container, spec *Spec, plan *Plan) error {
	for _, s := range plan.Steps {
		switch s.Stage {
		case "overlay":
			c.Runtime.Merged = spec.Merged
		case "cgroup":
			c.Runtime.Cgroup = c.ID
		case "netns":
			c.Runtime.Netns = spec.Netns
		case "veth":
			c.Runtime.HostVeth = spec.HostVeth
			c.Runtime.Bridge = spec.Bridge
		}
	}
	if err := e.Store.Save(c); err != nil {
		return err
	}
	e.Prestarted.WaitGroup() // made, for the cgroup step to take over
	// The network's steps need nothing of the root's or the cgroup's:
	// unless printed (in order), they run meanwhile on a thread of their
	// own. Release tolerates any step not done. --timings lists them in
	// the plan's order.
	took := make([]time.Duration, len(plan.Steps))
	var root, net []int
	for i, s := range plan.Steps {
		if e.Explain == nil && slices.Contains([]string{"netns", "veth", "netconf", "lo up"}, s.Stage) {
			net = append(net, i)
		} else {
			root = append(root, i)
		}
	}
	netErr := make(chan error, 1)
	go func() { netErr <- e.runSteps(plan.Steps, net, took) }()
	err := cmp.Or(e.runSteps(plan.Steps, root, took), <-netErr)
	for i, s := range plan.Steps {
		if took[i] > 0 {
			e.stage(s.Stage, time.Now().Add(-took[i]))
		}
	}
	return err
}

// runSteps does the host steps of steps at indexes, in order, until one
// fails, noting how long each took.
func (e *Engine) runSteps(steps []Step, indexes []int, took []time.Duration) error {
	for _, i := range indexes {
		s, t := steps[i], time.Now()
		if s.Fn != nil {
			e.Explain.Argv(s.Do...)
			if err := s.Fn(); err != nil {
				return err
			}
		} else if err := runTool(e.Explain, s.Do); err != nil {
			return err
		}
		took[i] = max(time.Since(t), time.Nanosecond)
	}
	return nil
}

// Start prepares c and runs it: in the foreground, this process waits
// for it and returns its exit code; with Detach, a monitor does, and
// Start returns once the container runs.
func (e *Engine) Start(c *container.Container, a Attach) (int, error) {
	c, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return 125, err
	}
	if c.State.Running && !a.Restart {
		l.Unlock()
		return 0, nil
	}
	if !a.Restart {
		c.RestartCount, c.Runtime.RestartDelay, c.Runtime.ManuallyStopped = 0, 0, false
	}
	// The process that records the container's end is, for now, us.
	c.Runtime.MonitorPid = os.Getpid()
	c.Runtime.MonitorStart, _ = container.StartTime(os.Getpid())
	plan, err := e.Prepare(c, a)
	if err != nil {
		e.Prestarted.Drop() // out of the group before release deletes it
		e.release(c)        // the error to report is Prepare's
		l.Unlock()
		return 125, err
	}
	e.Explain.Cmd("%s", plan.ChainLine())
	if a.Detach {
		l.Unlock()
		return 0, e.startMonitor(c, a.Client)
	}
	l.Unlock()
	return e.runForeground(c, a)
}

// MarkRunning records the running container.
func (e *Engine) MarkRunning(c *container.Container, pid int) error {
	cur, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	cur.State = container.State{Status: container.Running, Running: true, Pid: pid, StartedAt: time.Now().UTC()}
	cur.Runtime.PidStart, _ = container.StartTime(pid)
	cur.Runtime.MonitorPid = os.Getpid()
	cur.Runtime.MonitorStart, _ = container.StartTime(os.Getpid())
	*c = *cur
	e.event("start", cur, nil)
	return e.Store.Save(cur)
}

// Finish records the container's end, releases its kernel objects and,
// with --rm, removes it.
func (e *Engine) Finish(c *container.Container, ws syscall.WaitStatus) (int, error) {
	code := launch.WaitCode(ws)
	cur, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return code, err
	}
	defer l.Unlock()
	oom := cur.Runtime.Cgroup != "" && cgroup.OOMKilled(CgroupParent, cur.Runtime.Cgroup)
	cur.State.Status, cur.State.Running, cur.State.Paused, cur.State.Pid = container.Exited, false, false, 0
	cur.State.ExitCode, cur.State.OOMKilled, cur.State.FinishedAt = code, oom, time.Now().UTC()
	restart.Mark(cur) // --restart: "restarting" at once, in the same save
	// Released before the end is recorded, as Docker cleans up before it
	// marks a container stopped: whoever waits for the exit (stop, wait)
	// finds the address given back and the neighbours' hosts rewritten.
	t := time.Now()
	if !cur.Runtime.Released {
		err = e.releaseObjects(cur)
	}
	e.stage("release", t)
	// An auto-removed container's state is written only when something
	// is left for rm to release.
	if !cur.HostConfig.AutoRemove || err != nil {
		if serr := e.Store.Save(cur); serr != nil {
			return code, errors.Join(err, serr)
		}
	}
	e.event("die", cur, map[string]string{"exitCode": strconv.Itoa(code)})
	if cur.HostConfig.AutoRemove && err == nil {
		e.Explain.Argv("rm", "-rf", e.Store.Dir(cur.ID))
		if err = e.Store.Remove(cur.ID); err == nil {
			mounts.RemoveAnonymous(e.Volumes(), e.Store, cur)
		}
		e.event("destroy", cur, nil)
	}
	return code, err
}

// runForeground runs the chain attached to our terminal, records the
// container while it runs, and returns its exit code.
func (e *Engine) runForeground(c *container.Container, a Attach) (int, error) {
	rot, _ := logs.ParseRotation(c.HostConfig.LogConfig.Config) // checked by Create
	lf, err := logs.Open(c.LogPath, rot)
	if err != nil {
		return 125, err
	}
	defer lf.Close()
	var stdin io.Reader
	if a.Stdin && e.Stdin != nil {
		stdin = e.Stdin
	}
	stdout, stderr := lf.Stream("stdout"), lf.Stream("stderr")
	defer stderr.Close()
	defer stdout.Close()
	var r *launch.Started
	out, errOut := io.MultiWriter(e.Stdout, stdout), io.MultiWriter(e.Stderr, stderr)
	if a.TTY {
		// The tools' own errors, before the terminal exists, go to ours.
		r, err = launch.Start(c, nil, e.Stdout, e.Stderr, true)
	} else if r, err = e.Prestarted.Launch(c, out, errOut); errors.Is(err, launch.ErrNotPrestartable) {
		e.Prestarted.Drop()
		r, err = launch.Start(c, stdin, out, errOut, false)
	}
	e.Prestarted.Drop() // unless it became the container
	e.Prestarted = nil
	if err != nil {
		e.FinishFailed(c)
		return 125, err
	}
	stopHealth, checked := make(chan struct{}), (<-chan struct{})(nil)
	ws := launch.Foreground(r.Cmd, r.Sock, out, a.Stdin, e.Terminal, func() {
		if pid, _ := r.Watch(e.Timings); pid != 0 {
			if err := e.MarkRunning(c, pid); err != nil {
				r.Cmd.Process.Kill()
			} else if e.Health != nil {
				checked = e.Health(e, c.ID, pid, stopHealth) // --health-cmd, HEALTHCHECK
			}
		}
	}, r.Drain)
	close(stopHealth)
	if checked != nil {
		<-checked // nothing is recorded after the container's end
	}
	stdout.Close()
	stderr.Close()
	return e.Finish(c, ws)
}

// FinishFailed releases a container whose chain never started.
func (e *Engine) FinishFailed(c *container.Container) {
	cur, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return
	}
	defer l.Unlock()
	cur.State.Status, cur.State.ExitCode, cur.State.FinishedAt = container.Exited, 125, time.Now().UTC()
	e.Store.Save(cur)
	e.release(cur)
}

// ErrChainFailed is returned when the chain exits before the container runs.
var ErrChainFailed = errors.New("the container did not start")

// self returns mini-docker's own executable: a container's monitor, its
// --init and an exec's last step are modes of it. mini-docker-build and
// mini-docker-serve, which run containers too (RUN, the API), name the
// mini-docker installed beside them.
func (e *Engine) self() string {
	p, err := os.Executable()
	if err != nil {
		return "/proc/self/exe"
	}
	if b := filepath.Base(p); b == "mini-docker-build" || b == "mini-docker-serve" {
		return filepath.Join(filepath.Dir(p), "mini-docker")
	}
	return p
}
