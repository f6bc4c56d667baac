package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
)

// Attach says how a start connects to the terminal.
type Attach struct {
	Detach bool
	Stdin  bool // -i
	TTY    bool // -t
}

// stage times one stage of a run for --timings.
func (e *Engine) stage(name string, start time.Time) {
	if e.Timings != nil {
		fmt.Fprintf(e.Timings, "%-12s %8.3f ms\n", name, float64(time.Since(start).Microseconds())/1000)
	}
}

// Prepare does the host-side steps of a start (overlay, cgroup,
// network, /etc files) and returns the plan whose chain becomes the
// container. Each object is recorded in c before it is made, so that
// whatever happens next, release finds it. The caller holds c's lock.
func (e *Engine) Prepare(c *container.Container, a Attach) (*Plan, error) {
	dir := e.Store.Dir(c.ID)
	upper, work, merged := graphDirs(dir)
	e.Explain.Argv("mkdir", "-p", upper, work, merged)
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	oci, err := e.OCISpec(c)
	if err != nil {
		return nil, err
	}
	spec := planSpec(oci, &c.HostConfig)
	spec.ID, spec.Self, spec.Root, spec.Tools = c.ID, e.self(), e.Root, e.Tools
	spec.Upper, spec.Work = upper, work
	spec.Console = a.TTY && !a.Detach
	var vethctl string
	if onBridge(spec.Network) {
		if vethctl, err = e.prepareBridge(c, spec); err != nil {
			return nil, err
		}
	}
	if ownNetns(spec.Network) {
		spec.Netns = NetnsName(c.ID)
		c.NetworkSettings.SandboxKey = "/run/netns/" + spec.Netns
	}
	etc, err := WriteEtcFiles(dir, c.Config.Hostname, bridgeIP(c), spec.Network == container.NetworkHost)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{etc.Hostname, etc.Hosts, etc.ResolvConf} {
		explainFile(e.Explain, p)
	}
	c.HostnamePath, c.HostsPath, c.ResolvConfPath = etc.Hostname, etc.Hosts, etc.ResolvConf
	if err := e.joinNames(c, spec); err != nil {
		return nil, err
	}

	plan, err := BuildPlan(spec)
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
	c.NetworkSettings.Ports = c.HostConfig.PortBindings
	if err := e.runHostSteps(c, spec, plan); err != nil {
		return nil, err
	}
	if onBridge(spec.Network) && len(c.HostConfig.PortBindings) > 0 {
		ip, _, _ := strings.Cut(spec.Addr, "/")
		if err := e.startForwarders(vethctl, c, ip); err != nil {
			return nil, err
		}
		// The forwarders' PIDs, for release.
		if err := e.Store.Save(c); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// planSpec is what the plan is made from: the OCI spec's root, process,
// mounts, resources and namespaces, and the host's side of the network
// and the capability flags from HostConfig.
func planSpec(oci *specs.Spec, hc *container.HostConfig) *Spec {
	p, l := oci.Process, oci.Linux
	s := &Spec{Spec: plan.Spec{Hostname: oci.Hostname, Merged: oci.Root.Path, ReadOnly: oci.Root.Readonly,
		Mounts: oci.Mounts, Workdir: p.Cwd, User: p.User.Username, Argv: p.Args,
		Security: spec.Security{Seccomp: oci.Annotations[spec.AnnotationSeccomp], NoNewPrivs: p.NoNewPrivileges},
		Caps:     spec.CapSpec{Privileged: hc.Privileged, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop}},
		Env: p.Env, Resources: l.Resources, Lower: strings.Split(oci.Annotations[spec.AnnotationLower], ":"), Network: hc.NetworkMode,
	}
	for _, n := range p.Capabilities.Bounding {
		s.KeepCaps = append(s.KeepCaps, strings.TrimPrefix(n, "CAP_"))
	}
	for _, ns := range l.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			s.NetnsPath = ns.Path
		}
		s.CgroupNS = s.CgroupNS || ns.Type == specs.CgroupNamespace
		s.Userns = s.Userns || ns.Type == specs.UserNamespace
	}
	return s
}

// prepareBridge makes the network's bridge on first use and leases the
// address (first, so that /etc/hosts can name it), recording the lease.
func (e *Engine) prepareBridge(c *container.Container, spec *Spec) (string, error) {
	vethctl, err := e.Tools.Path("vethctl", "network")
	if err != nil {
		return "", err
	}
	n, err := e.networks().Find(spec.Network.NetworkName())
	if err != nil {
		return "", err
	}
	prefix, gw := networks.Subnet(n)
	t := time.Now()
	if err := e.ensureBridge(vethctl, networks.Bridge(n), fmt.Sprintf("%s/%d", gw, prefix.Bits())); err != nil {
		return "", err
	}
	c.Runtime.Lease = "pending"
	if err := e.Store.Save(c); err != nil {
		return "", err
	}
	addr, err := e.leaseAddr(vethctl, c.ID, prefix.String(), gw.String())
	if err != nil {
		c.Runtime.Lease = ""
		return "", err
	}
	c.Runtime.Lease = addr
	e.stage("ipam", t)
	if err := e.syncFirewall(); err != nil {
		return "", err
	}
	spec.Addr, spec.Gateway, spec.Bridge = addr, gw.String(), networks.Bridge(n)
	spec.HostVeth = hostVethName()
	ip, _, _ := strings.Cut(addr, "/")
	ns := &c.NetworkSettings
	ns.Bridge = ""
	ns.MacAddress = ""
	ep := &container.EndpointSetting{NetworkID: n.ID, Gateway: gw.String(), IPAddress: ip, IPPrefixLen: prefix.Bits()}
	if old := ns.Networks[n.Name]; old != nil {
		ep.Aliases = old.Aliases
	}
	ns.Networks = map[string]*container.EndpointSetting{n.Name: ep}
	if n.Name == networks.Default {
		// Docker fills the top-level fields for the default bridge only.
		ns.IPAddress, ns.Gateway, ns.IPPrefixLen = ip, gw.String(), prefix.Bits()
	}
	return vethctl, nil
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
	for _, s := range plan.Steps {
		t := time.Now()
		if s.Fn != nil {
			e.Explain.Argv(s.Do...)
			if err := s.Fn(); err != nil {
				return err
			}
		} else if err := runTool(e.Explain, s.Do); err != nil {
			return err
		}
		e.stage(s.Stage, t)
	}
	return nil
}

// cgroupV2 reports whether the host runs the unified hierarchy only
// (Docker gives containers a cgroup namespace there, not on v1 or
// hybrid hosts). cgroupctl's detection reads it from the mounts.
func cgroupV2() bool {
	h, err := hostCgroups()
	return err == nil && h.Mode == cgroup.V2
}

var detected struct {
	sync.Mutex
	h *cgroup.Host
}

// hostCgroups detects the host's cgroup trees once per process (reading
// /proc/self/mountinfo and /proc/self/cgroup), for every cgroup step of
// a run: the mode check, create, the OOM check and delete.
func hostCgroups() (*cgroup.Host, error) {
	detected.Lock()
	defer detected.Unlock()
	if detected.h != nil {
		return detected.h, nil
	}
	h, err := cgroup.Detect()
	if err != nil {
		return nil, err
	}
	detected.h = h
	return h, nil
}

// Start prepares c and runs it: in the foreground, this process waits
// for it and returns its exit code; with Detach, a monitor does, and
// Start returns once the container runs.
func (e *Engine) Start(c *container.Container, a Attach) (int, error) {
	l, err := e.Store.LockContainer(c.ID)
	if err != nil {
		return 125, err
	}
	c, err = e.Store.Load(c.ID)
	if err != nil {
		l.Unlock()
		return 125, err
	}
	if c.State.Running {
		l.Unlock()
		return 0, nil
	}
	// The process that records the container's end is, for now, us.
	c.Runtime.MonitorPid = os.Getpid()
	c.Runtime.MonitorStart, _ = container.StartTime(os.Getpid())
	plan, err := e.Prepare(c, a)
	if err != nil {
		e.release(c) // the error to report is Prepare's
		l.Unlock()
		return 125, err
	}
	e.Explain.Cmd("%s", plan.ChainLine())
	if a.Detach {
		l.Unlock()
		return 0, e.startMonitor(c)
	}
	l.Unlock()
	return e.runForeground(c, a)
}

// started is a started container: the process to wait for and signal,
// -t's console socket, and how to learn when the command runs.
type started struct {
	cmd  *exec.Cmd
	sock *os.File
	// watch returns the container's PID once it runs the command (0 and
	// false when the chain failed first).
	watch func(e *Engine) (int, bool)
}

// startChain starts c's chain: in one process (inside.go), or as the
// separate tools with run --tool-chain.
func startChain(c *container.Container, stdin io.Reader, stdout, stderr io.Writer, console bool) (*started, error) {
	if c.Runtime.ToolChain || c.Runtime.Inside == nil {
		cmd, sock, err := launch(c, stdin, stdout, stderr, console)
		if err != nil {
			return nil, err
		}
		return &started{cmd: cmd, sock: sock, watch: func(e *Engine) (int, bool) {
			return e.watchChain(cmd.Process.Pid, filepath.Base(cmd.Path), c.Runtime.Comms)
		}}, nil
	}
	l, err := launchInside(c, stdin, stdout, stderr)
	if err != nil {
		return nil, err
	}
	return &started{cmd: l.cmd, sock: l.sock, watch: func(e *Engine) (int, bool) {
		if l.wait(e) {
			return l.cmd.Process.Pid, true
		}
		return 0, false
	}}, nil
}

// launch starts the chain of tools, each exec'd through a read-only
// descriptor of it (hops.go). It returns the first tool's process; the
// container is its child.
func launch(c *container.Container, stdin io.Reader, stdout, stderr io.Writer, console bool) (*exec.Cmd, *os.File, error) {
	var sock, theirs *os.File
	if console {
		var err error
		if sock, theirs, err = socketPair(); err != nil {
			return nil, nil, err
		}
	}
	argv, fds, err := openChain(c.Runtime.Chain, c.Runtime.Files, c.Runtime.Hops, theirs)
	if err != nil {
		if console {
			sock.Close()
			theirs.Close()
		}
		return nil, nil, err
	}
	defer func() {
		for _, f := range fds {
			f.Close() // the chain has its own copies
		}
	}()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.Runtime.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = fds
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startWatched(cmd, ""); err != nil {
		if sock != nil {
			sock.Close()
		}
		return nil, nil, fmt.Errorf("start %s: %w", c.Runtime.Chain[0], err)
	}
	return cmd, sock, nil
}

// containerPid finds the container's PID on the host: `unshare --pid`
// forks, and the child (PID 1 inside) is the container. It returns 0 if
// unshare exits first (the chain failed).
func containerPid(unsharePid int) int {
	start := time.Now()
	for i := 0; ; i++ {
		// unshare re-executes itself (to join namespaces in a C
		// constructor), and while a thread execs, /proc shows the process
		// briefly as a zombie and its files may not read: only waitid says
		// for sure whether it ended (WNOWAIT: without reaping it).
		if kids := childrenOf(unsharePid); len(kids) > 0 {
			return kids[len(kids)-1]
		}
		if exited(unsharePid) {
			return 0
		}
		if i < 200 {
			time.Sleep(50 * time.Microsecond)
		} else {
			time.Sleep(time.Millisecond)
		}
		if time.Since(start) > time.Minute {
			return 0
		}
	}
}

// childrenOf lists the live children of pid, from every thread's
// children file (a Go program forks from whichever thread it runs on).
func childrenOf(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var kids []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			if _, state, ok := procState(n); ok && state != 'Z' && state != 'X' {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// exited reports whether our child pid has ended, leaving it to be reaped.
func exited(pid int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil {
		return true // not our child any more: gone
	}
	return siginfoPid(&info) != 0
}

// markRunning records the running container.
func (e *Engine) markRunning(c *container.Container, pid int) error {
	l, err := e.Store.LockContainer(c.ID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	cur, err := e.Store.Load(c.ID)
	if err != nil {
		return err
	}
	cur.State = container.State{Status: container.Running, Running: true, Pid: pid, StartedAt: time.Now().UTC()}
	cur.Runtime.PidStart, _ = container.StartTime(pid)
	cur.Runtime.MonitorPid = os.Getpid()
	cur.Runtime.MonitorStart, _ = container.StartTime(os.Getpid())
	*c = *cur
	return e.Store.Save(cur)
}

// finish records the container's end, releases its kernel objects and,
// with --rm, removes it.
func (e *Engine) finish(c *container.Container, ws syscall.WaitStatus) (int, error) {
	code := WaitCode(ws)
	l, err := e.Store.LockContainer(c.ID)
	if err != nil {
		return code, err
	}
	defer l.Unlock()
	cur, err := e.Store.Load(c.ID)
	if err != nil {
		return code, err
	}
	oom := oomKilled(cur.Runtime.Cgroup)
	cur.State.Status = container.Exited
	cur.State.Running, cur.State.Paused = false, false
	cur.State.Pid = 0
	cur.State.ExitCode = code
	cur.State.OOMKilled = oom
	cur.State.FinishedAt = time.Now().UTC()
	if err := e.Store.Save(cur); err != nil {
		return code, err
	}
	t := time.Now()
	cur, err = e.release(cur)
	e.stage("release", t)
	if cur != nil && cur.HostConfig.AutoRemove && err == nil {
		e.Explain.Argv("rm", "-rf", e.Store.Dir(cur.ID))
		err = e.Store.Remove(cur.ID)
	}
	return code, err
}

// WaitCode is a wait status as Docker reports it: the exit status, or
// 128+N when killed by signal N.
func WaitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// oomKilled reads the cgroup's OOM kill counter (v1 memory.oom_control,
// v2 memory.events), through cgroupctl's package, which knows both.
func oomKilled(cg string) bool {
	if cg == "" {
		return false
	}
	h, err := hostCgroups()
	if err != nil {
		return false
	}
	g, err := cgroup.Open(h, CgroupParent, cg)
	if err != nil {
		return false
	}
	st, err := g.Stats()
	return err == nil && st.Memory != nil && st.Memory.OOMKills > 0
}

// forwarded are the signals Docker's CLI proxies to the container.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// forwardSignals passes the forwarded signals mini-docker receives on to
// p until the returned function is called.
func forwardSignals(p *os.Process) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	go func() {
		for s := range sigs {
			p.Signal(s)
		}
	}()
	return func() { signal.Stop(sigs) }
}

// runForeground runs the chain attached to our terminal, records the
// container while it runs, and returns its exit code.
func (e *Engine) runForeground(c *container.Container, a Attach) (int, error) {
	logf, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return 125, err
	}
	defer logf.Close()
	var stdin io.Reader
	if a.Stdin {
		stdin = os.Stdin
	}
	var r *started
	if a.TTY {
		// The tools' own errors, before the terminal exists, go to ours.
		r, err = startChain(c, nil, e.Stdout, e.Stderr, true)
	} else {
		r, err = startChain(c, stdin, io.MultiWriter(e.Stdout, logf), io.MultiWriter(e.Stderr, logf), false)
	}
	if err != nil {
		e.finishFailed(c)
		return 125, err
	}
	cmd, sock := r.cmd, r.sock
	defer forwardSignals(cmd.Process)()
	var restore func()
	if sock != nil {
		master, err := receiveConsole(sock)
		sock.Close()
		if err == nil {
			pty := &Pty{Master: master}
			defer pty.Close()
			restore = pty.Attach(os.Stdin, io.MultiWriter(e.Stdout, logf), a.Stdin)
		}
	}
	pid, _ := r.watch(e)
	if pid != 0 {
		if err := e.markRunning(c, pid); err != nil {
			cmd.Process.Kill()
		}
	}
	cmd.Wait()
	if restore != nil {
		restore()
	}
	return e.finish(c, cmd.ProcessState.Sys().(syscall.WaitStatus))
}

// finishFailed releases a container whose chain never started.
func (e *Engine) finishFailed(c *container.Container) {
	l, err := e.Store.LockContainer(c.ID)
	if err != nil {
		return
	}
	defer l.Unlock()
	if cur, err := e.Store.Load(c.ID); err == nil {
		cur.State.Status = container.Exited
		cur.State.ExitCode = 125
		cur.State.FinishedAt = time.Now().UTC()
		e.Store.Save(cur)
		e.release(cur)
	}
}

// procState reads the command name and state letter of pid from
// /proc/PID/stat.
func procState(pid int) (comm string, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i || j+2 >= len(s) {
		return "", 0, false
	}
	return s[i+1 : j], s[j+2], true
}

// watchChain finds the container's PID and follows it through the chain
// until it runs the user's command: each tool exec'ing the next shows as
// a new command name in /proc/PID/stat (first is the chain's first
// program's). It reports whether the command was reached (false when the
// chain died first). With --timings it prints how long each stage took.
func (e *Engine) watchChain(unsharePid int, first string, comms map[string]string) (int, bool) {
	start := time.Now()
	pid := containerPid(unsharePid)
	if pid == 0 {
		return 0, false
	}
	e.stage("clone", start)
	last := first
	t := time.Now()
	for i := 0; ; i++ {
		if time.Since(start) > 30*time.Second {
			return pid, !exited(unsharePid) // a tool is waiting on something; if alive, count it as started
		}
		comm, state, ok := procState(pid)
		if !ok || state == 'Z' || state == 'X' {
			// Dead, or in the middle of an exec by a thread other than the
			// leader (Go programs do that), which shows as a zombie for a
			// moment. unshare, our child, ends soon after its child does.
			if exited(unsharePid) {
				return pid, false
			}
			// unshare may have started a short-lived helper first: follow
			// the child that is there now.
			if kids := childrenOf(unsharePid); len(kids) > 0 && kids[len(kids)-1] != pid {
				pid = kids[len(kids)-1]
			}
			time.Sleep(50 * time.Microsecond)
			continue
		}
		if comm != last {
			if n, ok := comms[last]; ok && last != first {
				e.stage(n, t)
			}
			t, last = time.Now(), comm
			if _, ok := comms[comm]; !ok {
				e.stage("chain total", start)
				return pid, true
			}
		}
		if i > 100 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// ErrChainFailed is returned when the chain exits before the container runs.
var ErrChainFailed = errors.New("the container did not start")

// self returns mini-docker's own executable.
func (e *Engine) self() string {
	p, err := os.Executable()
	if err != nil {
		return "/proc/self/exe"
	}
	return p
}

// explainFile prints the command that writes the file p as it is now.
func explainFile(ex *explain.Printer, p string) {
	if !ex.Enabled() {
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	ex.Cmd("printf '%%s\\n' %s > %s", explain.Join(lines...), explain.Quote(p))
}

// siginfoPid reads si_pid from a siginfo_t (x/sys/unix keeps it opaque):
// si_signo, si_errno and si_code are three int32s, then the union of
// details starts on an 8-byte boundary, and si_pid comes first in it.
func siginfoPid(info *unix.Siginfo) int32 {
	b := (*[24]byte)(unsafe.Pointer(info))
	return *(*int32)(unsafe.Pointer(&b[16]))
}
