package main

// Integration tests: the built mini-docker and its sibling tools, as
// root, against the test registry. Every command that could create
// network objects runs inside a network namespace the test made to play
// the host (nsenter --net, which keeps the host's /sys and its cgroup
// mounts, unlike `ip netns exec`); the namespace is deleted at the end,
// and each test counts what it leaves behind.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var toolNames = testenv.MiniDockerTools

// harness is one test's mini-docker: its own state root and its own
// network namespace playing the host.
type harness struct {
	t      *testing.T
	bin    string
	root   string
	netns  string
	reg    *testenv.Registry
	before snapshot
	seen   func() []string // every container ID made under root (testenv.WatchNames)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	md := testenv.NewMiniDocker(t, "mdt")
	h := &harness{t: t, bin: md.Bin, root: md.Root, netns: md.Netns, seen: md.Seen}
	h.before = h.snap()
	t.Cleanup(h.cleanup)
	h.reg = testenv.SharedRegistry(t)
	return h
}

// debian and busybox push the test images and pull them into this
// harness's store from the host's namespace, where the registry listens.
func (h *harness) debian() string {
	ref := testenv.PushDebian(h.t, h.reg)
	h.mustHost("pull", "-q", ref)
	return ref
}

func (h *harness) busybox() string {
	ref := testenv.PushBusybox(h.t, h.reg)
	h.mustHost("pull", "-q", ref)
	return ref
}

func (h *harness) command(inNetns bool, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if inNetns {
		cmd = exec.Command("nsenter", append([]string{"--net=/run/netns/" + h.netns, h.bin}, args...)...)
	} else {
		cmd = exec.Command(h.bin, args...)
	}
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+h.root)
	return cmd
}

// md runs mini-docker in the test's network namespace: stdout, stderr, exit code.
func (h *harness) md(args ...string) (string, string, int) {
	h.t.Helper()
	return runCmd(h.t, h.command(true, args...))
}

// host runs mini-docker in the host's network namespace (pulls, and
// --network none runs, which make no network objects).
func (h *harness) host(args ...string) (string, string, int) {
	h.t.Helper()
	return runCmd(h.t, h.command(false, args...))
}

func (h *harness) must(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.md(args...)
	if code != 0 {
		h.t.Fatalf("mini-docker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (h *harness) mustHost(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.host(args...)
	if code != 0 {
		h.t.Fatalf("mini-docker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		if x, ok := err.(*exec.ExitError); ok {
			return out.String(), errOut.String(), x.ExitCode()
		}
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return out.String(), errOut.String(), 0
}

// ours reports whether a cgroup or netns name belongs to one of our containers.
func (h *harness) ours(name string) bool {
	short := strings.TrimPrefix(name, "md-")
	for _, id := range h.seen() {
		if id == name || (len(short) == 12 && strings.HasPrefix(id, short)) {
			return true
		}
	}
	return false
}

// snapshot counts the kernel objects and files runs make.
type snapshot struct {
	mounts, cgroups, netns, veths, leases, states, rules []string
}

var hex64 = testenv.ContainerID

func (h *harness) snap() snapshot {
	var s snapshot
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], h.root) {
			s.mounts = append(s.mounts, f[4])
		}
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mini-docker/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/mini-docker/*")
	for _, d := range append(dirs, more...) {
		if hex64.MatchString(filepath.Base(d)) && h.ours(filepath.Base(d)) {
			s.cgroups = append(s.cgroups, d)
		}
	}
	ns, _ := filepath.Glob("/run/netns/md-*")
	for _, n := range ns {
		if h.ours(filepath.Base(n)) {
			s.netns = append(s.netns, n)
		}
	}
	out, _ := exec.Command("ip", "-n", h.netns, "-o", "link", "show", "type", "veth").Output()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			s.veths = append(s.veths, l)
		}
	}
	leases, _ := filepath.Glob(filepath.Join(h.root, "network", "*", "*"))
	for _, l := range leases {
		if filepath.Base(l) != "lock" {
			s.leases = append(s.leases, l)
		}
	}
	s.rules = h.orphanRules()
	states, _ := filepath.Glob(filepath.Join(h.root, "containers", "*"))
	for _, st := range states {
		if hex64.MatchString(filepath.Base(st)) {
			s.states = append(s.states, st)
		}
	}
	return s
}

// ruleIfname finds the interface names an nft rule matches on.
var ruleIfname = regexp.MustCompile(`ifname (?:!= )?"([^"]+)"`)

// orphanRules are the firewall rules of the namespace playing the host
// that outlive their network's bridge: a network's NAT and isolation
// rules live as long as its bridge (which stays after its last
// container, as docker0 does), so a rule naming a bridge that is gone,
// or mini-docker's table with no bridge of ours, is left behind.
func (h *harness) orphanRules() []string {
	out, _ := exec.Command("ip", "-n", h.netns, "-o", "link", "show", "type", "bridge").Output()
	bridges := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			bridges[strings.TrimSuffix(f[1], ":")] = true
		}
	}
	ours := bridges["mini-docker0"]
	for b := range bridges {
		ours = ours || strings.HasPrefix(b, "mdbr-")
	}
	out, _ = exec.Command("ip", "netns", "exec", h.netns, "nft", "list", "ruleset").Output()
	var orphans []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "table ip mini-docker ") && !ours {
			orphans = append(orphans, "table ip mini-docker, with no bridge of ours")
		}
		for _, q := range ruleIfname.FindAllStringSubmatch(l, -1) {
			if !bridges[q[1]] {
				orphans = append(orphans, strings.TrimSpace(l)+" (no bridge "+q[1]+")")
				break
			}
		}
	}
	return orphans
}

// leaks lists what after has that before had not.
func leaks(before, after snapshot) []string {
	var out []string
	diff := func(kind string, b, a []string) {
		had := map[string]bool{}
		for _, x := range b {
			had[x] = true
		}
		for _, x := range a {
			if !had[x] {
				out = append(out, kind+" "+x)
			}
		}
	}
	diff("mount", before.mounts, after.mounts)
	diff("cgroup", before.cgroups, after.cgroups)
	diff("netns", before.netns, after.netns)
	diff("veth", before.veths, after.veths)
	diff("lease", before.leases, after.leases)
	diff("state", before.states, after.states)
	diff("rule", before.rules, after.rules)
	return out
}

// assertNoLeaks fails when the runs so far left anything behind.
func (h *harness) assertNoLeaks() {
	h.t.Helper()
	time.Sleep(50 * time.Millisecond) // let inotify report the last IDs
	for _, l := range h.leftSince(h.before) {
		h.t.Errorf("left behind: %s", l)
	}
}

// leftSince is what the runs since before left, polled with a generous
// deadline: a removed container's veth pair goes with its network
// namespace, which the kernel frees in the background a moment after
// the last reference is gone.
func (h *harness) leftSince(before snapshot) []string {
	var left []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if left = leaks(before, h.snap()); len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}

func (h *harness) cleanup() {
	// Remove whatever a failed test left, then check it all went.
	if out, _, _ := h.md("ps", "-aq", "--no-trunc"); out != "" {
		h.md(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	for _, l := range h.leftSince(h.before) {
		h.t.Errorf("after rm -f of everything, left behind: %s", l)
	}
}

// TestRunHelloWorld is the PyCon demo: the first run pulls, the second
// is just the output.
func TestRunHelloWorld(t *testing.T) {
	h := newHarness(t)
	ref := testenv.PushDebian(t, h.reg)
	out, errOut, code := h.host("run", "--network", "none", ref, "echo", "hello", "world")
	if code != 0 || out != "hello world\n" {
		t.Fatalf("first run: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Unable to find image '" + ref + "' locally", "Pull complete", "Status: Downloaded newer image for " + ref} {
		if !strings.Contains(errOut, want) {
			t.Errorf("first run's stderr lacks %q:\n%s", want, errOut)
		}
	}
	out, errOut, code = h.host("run", "--network", "none", ref, "echo", "hello", "world")
	if code != 0 || out != "hello world\n" || errOut != "" {
		t.Fatalf("second run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Both containers stay (no --rm), exited with 0, their mounts and
	// cgroups already released.
	ps := h.must("ps", "-a")
	if n := strings.Count(ps, "Exited (0)"); n != 2 {
		t.Errorf("ps -a shows %d exited containers, want 2:\n%s", n, ps)
	}
	time.Sleep(100 * time.Millisecond) // let inotify report the IDs
	if s := h.snap(); len(s.mounts) != 0 || len(s.cgroups) != 0 {
		t.Errorf("exited containers still hold mounts %v or cgroups %v", s.mounts, s.cgroups)
	}
	h.must("container", "prune", "-f")
	h.assertNoLeaks()
}

// TestWalkthrough follows lesson 09: run -d, inspect, the namespaces,
// the cgroup, exec, stop, rm.
func TestWalkthrough(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	id := strings.TrimSpace(h.must("run", "-d", "--name", "demo", ref, "sleep", "300"))
	if !hex64.MatchString(id) {
		t.Fatalf("run -d printed %q, want a 64-hex ID", id)
	}
	gd := h.must("inspect", "--format", "{{json .GraphDriver}}", "demo")
	for _, k := range []string{`"Name":"overlay2"`, `"LowerDir":`, `"UpperDir":`, `"WorkDir":`, `"MergedDir":`} {
		if !strings.Contains(gd, k) {
			t.Errorf("GraphDriver lacks %s: %s", k, gd)
		}
	}
	pid := strings.TrimSpace(h.must("inspect", "--format", "{{.State.Pid}}", "demo"))
	for _, ns := range []string{"ipc", "mnt", "net", "pid", "uts"} {
		theirs, _ := os.Readlink("/proc/" + pid + "/ns/" + ns)
		ours, _ := os.Readlink("/proc/self/ns/" + ns)
		if theirs == "" || theirs == ours {
			t.Errorf("namespace %s of the container = %q, ours %q: want a new one", ns, theirs, ours)
		}
	}
	procs, err := os.ReadFile("/sys/fs/cgroup/memory/mini-docker/" + id + "/cgroup.procs")
	if err != nil {
		procs, err = os.ReadFile("/sys/fs/cgroup/mini-docker/" + id + "/cgroup.procs")
	}
	if err != nil || strings.TrimSpace(string(procs)) != pid {
		t.Errorf("cgroup.procs = %q (%v), want %s", procs, err, pid)
	}
	ps := h.must("exec", "demo", "ps", "aux")
	if !regexp.MustCompile(`(?m)^root\s+1\s.*sleep 300$`).MatchString(ps) {
		t.Errorf("exec ps aux: sleep 300 is not PID 1:\n%s", ps)
	}
	if lines := strings.Count(strings.TrimSpace(ps), "\n") + 1; lines != 3 {
		t.Errorf("exec ps aux shows %d lines, want the header, sleep and ps:\n%s", lines, ps)
	}
	// exec joins the cgroup (v1 and hybrid: the memory controller's
	// group; v2: the container's group, the root of its private cgroup
	// namespace), and runs under the same seccomp filter and
	// capabilities, with no descriptor of ours left open.
	inCgroup := ":memory:/mini-docker/" + id
	if _, v2 := cgroupDirs(t, pid); v2 {
		inCgroup = "\n0::/\n"
	}
	sec := h.must("exec", "demo", "sh", "-c", "grep -E 'CapEff|Seccomp:' /proc/self/status; grep -E 'memory|^0::' /proc/self/cgroup; ls /proc/$$/fd")
	for _, want := range []string{"CapEff:\t00000000a80425fb", "Seccomp:\t2", inCgroup, "\n0\n1\n2\n"} {
		if !strings.Contains(sec, want) {
			t.Errorf("exec: lacks %q:\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "\n3\n") {
		t.Errorf("exec: the shell holds descriptor 3:\n%s", sec)
	}
	if got := h.must("exec", "demo", "hostname"); got != id[:12]+"\n" {
		t.Errorf("hostname = %q, want %s", got, id[:12])
	}
	links := h.must("exec", "demo", "ip", "-o", "link")
	if !strings.Contains(links, "1: lo:") || !regexp.MustCompile(`eth0@if\d+`).MatchString(links) || strings.Count(links, "\n") != 2 {
		t.Errorf("ip link in the container:\n%s", links)
	}
	if osr := h.must("exec", "demo", "cat", "/etc/os-release"); !strings.Contains(osr, `NAME="Debian GNU/Linux"`) {
		t.Errorf("os-release:\n%s", osr)
	}
	for _, p := range strings.Fields(h.must("exec", "demo", "sh", "-c", "ls /proc | grep -E '^[0-9]+$'")) {
		if len(p) > 3 {
			t.Errorf("ls /proc in the container shows PID %s: the host's processes leak in", p)
		}
	}
	if got := h.must("stop", "-t", "1", "demo"); got != "demo\n" {
		t.Errorf("stop printed %q", got)
	}
	if st := h.must("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "demo"); st != "exited 137\n" {
		t.Errorf("after stop: %q, want exited 137 (sleep ignores SIGTERM as PID 1)", st)
	}
	_, errOut, code := h.md("exec", "demo", "true")
	if code == 0 || !strings.Contains(errOut, "is not running") {
		t.Errorf("exec into a stopped container: exit %d, %q", code, errOut)
	}
	if got := h.must("rm", "demo"); got != "demo\n" {
		t.Errorf("rm printed %q", got)
	}
	h.assertNoLeaks()
}

// TestStopSignals: stop sends SIGTERM (unshare, the container's parent on
// the host, forwards it to PID 1) and SIGKILL after the timeout. The
// kernel delivers no signal to a PID 1 that has no handler for it, so
// sleep ignores SIGTERM and only SIGKILL ends it (137); a shell that
// traps TERM gets it and exits with its own code, before the timeout.
func TestStopSignals(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	h.must("run", "-d", "--network", "none", "--name", "deaf", ref, "sleep", "300")
	h.must("run", "-d", "--network", "none", "--name", "trap", ref, "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done")
	h.must("run", "-d", "--network", "none", "--name", "deaf0", ref, "sleep", "300")
	for _, tc := range []struct {
		name, timeout, want string
	}{
		{"deaf", "1", "exited 137 false"},  // SIGTERM ignored: SIGKILL after 1 s
		{"trap", "60", "exited 3 false"},   // SIGTERM handled: no SIGKILL
		{"deaf0", "0", "exited 137 false"}, // -t 0: SIGKILL at once (it used to wait for ever)
	} {
		if got := h.must("stop", "-t", tc.timeout, tc.name); got != tc.name+"\n" {
			t.Errorf("stop %s printed %q", tc.name, got)
		}
		if got := h.must("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", tc.name); got != tc.want+"\n" {
			t.Errorf("%s after stop -t %s: %q, want %q", tc.name, tc.timeout, got, tc.want)
		}
	}
	h.must("rm", "deaf", "trap", "deaf0")
	h.assertNoLeaks()
}

// TestCapAddAll: --cap-add ALL gives every capability, and --cap-drop
// still takes one away (Docker's rule, computed by capctl's package);
// --privileged keeps all. "All" is what this host's bounding set holds:
// no process can gain more.
func TestCapAddAll(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	bnd := regexp.MustCompile(`CapBnd:\t([0-9a-f]{16})`).FindSubmatch(status)
	if bnd == nil {
		t.Fatal("no CapBnd in /proc/self/status")
	}
	all, _ := strconv.ParseUint(string(bnd[1]), 16, 64)
	const netRaw = 1 << 13
	for _, tc := range []struct {
		flags []string
		want  uint64
	}{
		{[]string{"--cap-add", "ALL", "--cap-drop", "NET_RAW"}, all &^ netRaw},
		{[]string{"--privileged"}, all},
	} {
		args := append([]string{"run", "--rm", "--network", "none"}, tc.flags...)
		out := h.must(append(args, ref, "grep", "CapEff", "/proc/self/status")...)
		if want := fmt.Sprintf("CapEff:\t%016x\n", tc.want); out != want {
			t.Errorf("%v: %q, want %q", tc.flags, out, want)
		}
	}
	h.assertNoLeaks()
}

// TestDeviceCgroup: on a v1 host the devices controller holds Docker's
// default rules (docker run gives this devices.list), and --privileged
// allows every device.
func TestDeviceCgroup(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/devices"); err != nil {
		t.Skip("no v1 devices hierarchy (cgroup v2 uses an eBPF program, not done by cgroupctl)")
	}
	h := newHarness(t)
	ref := h.debian()
	docker := "b *:* m|c *:* m|c 1:3 rwm|c 1:5 rwm|c 1:7 rwm|c 1:8 rwm|c 1:9 rwm|c 5:0 rwm|c 5:1 rwm|c 5:2 rwm|c 10:200 rwm|c 136:* rwm"
	sorted := func(s string) string {
		l := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "|", "\n")), "\n")
		slices.Sort(l)
		return strings.Join(l, "|")
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, docker},
		{[]string{"--privileged"}, "a *:* rwm"},
	} {
		args := append(append([]string{"run", "--rm", "--network", "none"}, tc.flags...), ref, "cat", "/sys/fs/cgroup/devices/devices.list")
		if got := h.must(args...); sorted(got) != sorted(tc.want) {
			t.Errorf("%v devices.list = %q, want %q", tc.flags, sorted(got), sorted(tc.want))
		}
	}
	h.assertNoLeaks()
}

// TestUsageListsEveryCommand: the usage text names every command
// mini-docker knows (the first word of each, and each "container"/"image"/
// "system" sub-command that has no shorter name).
func TestUsageListsEveryCommand(t *testing.T) {
	commands := commandTable()
	short := map[string]bool{}
	for name := range commands {
		if !strings.Contains(name, " ") {
			short[name] = true
		}
	}
	for name := range commands {
		group, sub, grouped := strings.Cut(name, " ")
		if grouped && (short[sub] || sub == "ls" || sub == "list") {
			continue // "image pull" = pull, "container ls" = ps
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `\b`).MatchString(usage) {
			t.Errorf("usage does not list %q (%s)", name, group)
		}
	}
}

// TestDockerParity checks what a process sees inside, against the values
// docker run gives.
func TestDockerParity(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	probe := `grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; ` +
		`echo "pid: $$"; echo "hostname: $(hostname)"; ` +
		`echo "env: $(env | grep -E '^(PATH|HOME|HOSTNAME|TERM)=' | sort | tr '\n' ' ')"; cat /proc/self/mountinfo`
	out := h.must("run", "--rm", ref, "sh", "-c", probe)
	for _, want := range []string{
		"CapInh:\t0000000000000000", "CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb",
		"CapBnd:\t00000000a80425fb", "CapAmb:\t0000000000000000", "NoNewPrivs:\t0", "Seccomp:\t2",
		"pid: 1\n",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ", "HOME=/root ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("probe lacks %q:\n%s", want, out)
		}
	}
	host := regexp.MustCompile(`hostname: ([0-9a-f]{12})\n`).FindStringSubmatch(out)
	if host == nil || !strings.Contains(out, "HOSTNAME="+host[1]+" ") {
		t.Errorf("hostname and HOSTNAME should be the short ID:\n%s", out)
	}
	mounts := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 9 && strings.Contains(l, " - ") {
			mounts[f[4]] = f[5] + " " + strings.Join(strings.Fields(strings.SplitN(l, " - ", 2)[1]), " ")
		}
	}
	wantMounts := map[string]string{
		"/proc": "nosuid,nodev,noexec", "/dev": "tmpfs", "/dev/pts": "gid=5,mode=620,ptmxmode=666",
		"/dev/shm": "size=65536k", "/dev/mqueue": "mqueue", "/sys": "ro,",
		"/proc/kcore": "", "/proc/keys": "", "/proc/timer_list": "", "/proc/acpi": "", "/sys/firmware": "",
		"/proc/sys": "ro,", "/proc/sysrq-trigger": "ro,", "/proc/irq": "ro,", "/proc/bus": "ro,", "/proc/fs": "ro,",
		"/etc/hostname": "", "/etc/hosts": "", "/etc/resolv.conf": "",
	}
	for mp, want := range cgroupMounts() {
		wantMounts[mp] = want
	}
	for mp, want := range wantMounts {
		if _, err := os.Lstat(mp); err != nil && (strings.HasPrefix(mp, "/proc/") || strings.HasPrefix(mp, "/sys/")) {
			continue // this kernel has no such file: nothing to mask (Docker skips it too)
		}
		got, ok := mounts[mp]
		if !ok || !strings.Contains(got, want) {
			t.Errorf("mount %s = %q, want it with %q", mp, got, want)
		}
	}
	// Only 0, 1 and 2 are open (3 is ls's own look at the folder), as in Docker.
	if out := h.must("run", "--rm", "--network", "none", ref, "ls", "/proc/self/fd"); out != "0\n1\n2\n3\n" {
		t.Errorf("open descriptors: %q", out)
	}
	// -t gives TERM=xterm; no-new-privileges and the user flag reach the process.
	out = h.must("run", "--rm", "-t", "--security-opt", "no-new-privileges", "-u", "nobody", ref, "sh", "-c", "echo $TERM; id -u; grep NoNewPrivs /proc/self/status; grep CapEff /proc/self/status")
	for _, want := range []string{"xterm", "65534", "NoNewPrivs:\t1", "CapEff:\t0000000000000000"} {
		if !strings.Contains(out, want) {
			t.Errorf("-t --security-opt no-new-privileges -u nobody: lacks %q:\n%s", want, out)
		}
	}
	h.assertNoLeaks()
}

// cgroupMounts is what Docker mounts at /sys/fs/cgroup: on a v2 host the
// container's cgroup2 tree, read-only; on v1 and hybrid hosts a tmpfs
// that is read-write (mountinfo shows "rw,nosuid,...") holding each
// hierarchy read-only (the memory one checked here).
func cgroupMounts() map[string]string {
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
		return map[string]string{"/sys/fs/cgroup": "rw,", "/sys/fs/cgroup/memory": "ro,"}
	}
	return map[string]string{"/sys/fs/cgroup": "ro,"}
}

// scriptOf takes the "+ " lines of --explain's output: the run as a
// shell script.
func scriptOf(stderr string) string {
	var b strings.Builder
	for _, l := range strings.Split(stderr, "\n") {
		if s, ok := strings.CutPrefix(l, "+ "); ok {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// between returns the text between the BEGIN and END lines.
func between(s string) string {
	_, s, _ = strings.Cut(s, "BEGIN\n")
	s, _, _ = strings.Cut(s, "END\n")
	return s
}

// TestExplainScriptByHand runs --explain's printed script with bash and
// expects the same container output as the run itself.
func TestExplainScriptByHand(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	probe := "echo BEGIN; hostname; cat /etc/hosts; grep -E 'CapEff|Seccomp:' /proc/self/status; ls /proc/1/fd; ip -o -4 addr show eth0 | cut -d' ' -f2,7; echo END"
	for _, network := range []string{"none", "bridge"} {
		out, errOut, code := h.md("run", "--rm", "--explain", "--network", network, ref, "sh", "-c", probe)
		if code != 0 {
			t.Fatalf("run --explain: exit %d\n%s", code, errOut)
		}
		script := scriptOf(errOut)
		// Start from where the run started: no bridge yet.
		exec.Command("ip", "-n", h.netns, "link", "del", "mini-docker0").Run()
		for _, want := range []string{"overlay mount", "cgroupctl create", "unshare --mount", "chroot --pivot", "cgroupctl delete", "umount", "rm -rf"} {
			if !strings.Contains(script, want) {
				t.Errorf("script lacks %q:\n%s", want, script)
			}
		}
		cmd := exec.Command("nsenter", "--net=/run/netns/"+h.netns, "bash", "-e", "-c", script)
		byHand, errHand, code := runCmd(t, cmd)
		if code != 0 {
			t.Fatalf("%s: the script by hand: exit %d\n%s\nscript:\n%s", network, code, errHand, script)
		}
		if between(byHand) != between(out) || between(out) == "" {
			t.Errorf("%s: by hand:\n%s\nrun:\n%s", network, between(byHand), between(out))
		}
	}
	h.assertNoLeaks()
}

// TestOOMKilled: a process over its memory limit is killed by the
// kernel; the run exits 137 and inspect says OOMKilled.
func TestOOMKilled(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	hog := testenv.Bin(t, "hog")
	_, errOut, code := h.md("run", "--name", "hog", "-m", "32m", "--memory-swap", "32m", "--network", "none", "-v", hog+":/hog:ro", ref, "/hog", "mem", "64m")
	if code != 137 {
		t.Fatalf("run -m 32m hog mem 64m: exit %d, want 137\n%s", code, errOut)
	}
	if got := h.must("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}", "hog"); got != "true 137 33554432\n" {
		t.Errorf("inspect = %q, want true 137 33554432", got)
	}
	h.must("rm", "hog")
	h.assertNoLeaks()
}

// TestBridgeNetworking: two containers talk by IP over the bridge, and
// -p publishes a container's port on the (test's) host loopback.
func TestBridgeNetworking(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	serve := "echo hello from web > /tmp/index.html; exec httpd -f -p 80 -h /tmp"
	h.must("run", "-d", "--name", "web", "-p", "127.0.0.1:18080:80", ref, "sh", "-c", serve)
	ip := strings.TrimSpace(h.must("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web"))
	if !strings.HasPrefix(ip, "172.18.") {
		t.Fatalf("web's address = %q", ip)
	}
	// An HTTP request with nc (busybox-static's wget crashes on this host).
	get := func(addr string) string { return `printf 'GET / HTTP/1.0\r\n\r\n' | nc ` + addr }
	var out string
	for i := 0; i < 50; i++ { // httpd needs a moment to listen
		if out, _, _ = h.md("run", "--rm", ref, "sh", "-c", get(ip+" 80")); strings.Contains(out, "200 OK") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "200 OK") || !strings.HasSuffix(out, "\r\n\r\nhello from web\n") {
		t.Errorf("container to container: %q", out)
	}
	cmd := exec.Command("nsenter", "--net=/run/netns/"+h.netns, "/bin/busybox", "sh", "-c", get("127.0.0.1 18080"))
	got, errOut, code := runCmd(t, cmd)
	if code != 0 || !strings.HasSuffix(got, "\r\n\r\nhello from web\n") {
		t.Errorf("through -p 127.0.0.1:18080:80: exit %d %q %s", code, got, errOut)
	}
	// The port is taken now: Docker's message, and nothing left behind.
	before := h.snap()
	_, errOut, code = h.md("run", "--rm", "-p", "127.0.0.1:18080:80", ref, "true")
	if code != 125 || !strings.Contains(errOut, "port is already allocated") {
		t.Errorf("second -p of the same port: exit %d %q", code, errOut)
	}
	if l := h.leftSince(before); len(l) > 0 {
		t.Errorf("a run refused for its port left behind %v", l)
	}
	h.must("rm", "-f", "web")
	h.assertNoLeaks()
}

// TestBadInput: Docker's messages and exit codes, and nothing left behind.
func TestBadInput(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	h.must("run", "--name", "taken", "--network", "none", ref, "true")
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("A=1\n=x\n"), 0o644)
	longEnv := filepath.Join(t.TempDir(), "long.env") // Docker: not the rest of the file dropped
	os.WriteFile(longEnv, []byte("A=1\nLONG="+strings.Repeat("0", 70000)+"\nB=2\n"), 0o644)
	before := h.snap()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--pull", "never", "127.0.0.1:1/nope:1", "true"}, 125, "No such image: 127.0.0.1:1/nope:1"},
		{[]string{"run", "--bogus", ref}, 125, "unknown flag: --bogus"},
		{[]string{"run", "--memory", "10XB", ref, "true"}, 125, `invalid argument "10XB" for "-m, --memory" flag: invalid suffix: 'xb'`},
		{[]string{"run", "--mount", "type=bind,source=/nonexistent-src,target=/x", ref, "true"}, 125, "bind source path does not exist: /nonexistent-src"},
		{[]string{"run", "--name", "taken", ref, "true"}, 125, `Conflict. The container name "/taken" is already in use`},
		{[]string{"run", "UPPER", "true"}, 125, "invalid reference format"},
		{[]string{"run", "--rm", "--network", "none", ref, "no-such-command"}, 127, "executable file not found"},
		{[]string{"run", "--rm", "--network", "none", ref, "/etc"}, 126, "is a directory"},
		{[]string{"run", "--network", "nosuch", ref, "true"}, 125, "network nosuch not found"},
		{[]string{"exec", "taken", "true"}, 1, "is not running"},
		// A variable without a name: Docker's CLI refuses it before anything.
		{[]string{"run", "-e", "", ref, "true"}, 125, `invalid argument "" for "-e, --env" flag: invalid environment variable: ` + "\n"},
		{[]string{"run", "-e", "=x", ref, "true"}, 125, `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`},
		{[]string{"exec", "-e", "=x", "taken", "true"}, 125, `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`},
		{[]string{"run", "--env-file", envFile, ref, "true"}, 125, "invalid env file (" + envFile + "): no variable name on line '=x'"},
		{[]string{"run", "--env-file", longEnv, ref, "true"}, 125, "invalid env file (" + longEnv + "): bufio.Scanner: token too long"},
		{[]string{"stop", "nope"}, 1, "No such container: nope"},
		{[]string{"inspect", "nope"}, 1, "No such object: nope"},
		// A seccomp profile is read and parsed before anything is made,
		// as Docker's CLI does: not JSON, a device that never ends.
		{[]string{"create", "--security-opt", "seccomp=/etc/passwd", ref, "true"}, 125, "compacting json for seccomp profile (/etc/passwd) failed"},
		{[]string{"run", "--rm", "--security-opt", "seccomp=/dev/zero", ref, "true"}, 125, "opening seccomp profile (/dev/zero) failed: read profile: /dev/zero: not a regular file"},
		// Sizes past 8 EiB wrap negative (Docker's go-units too) and get Docker's refusals.
		{[]string{"run", "--rm", "--shm-size", "9999999999999999999", ref, "true"}, 125, "SHM size can not be less than 0"},
		{[]string{"run", "--rm", "-m", "9999999999999999999", ref, "true"}, 125, "Minimum memory limit allowed is 6MB"},
	} {
		_, errOut, code := h.md(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("mini-docker %s: exit %d %q, want %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.msg)
		}
	}
	if l := h.leftSince(before); len(l) > 0 {
		t.Errorf("bad input left behind %v", l)
	}
	// rm -f succeeds, twice.
	for i := 0; i < 2; i++ {
		if _, errOut, code := h.md("rm", "-f", "taken"); code != 0 {
			t.Errorf("rm -f #%d: exit %d %s", i+1, code, errOut)
		}
	}
	h.assertNoLeaks()
}

// TestParallelAndCrashes: 20 parallel detached runs get distinct
// addresses; then runs whose mini-docker or monitor is SIGKILLed, and
// rm -f plus container prune leave nothing behind.
func TestParallelAndCrashes(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	const n = 20
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, errOut, code := h.md("run", "-d", ref, "sleep", "300")
			if code != 0 {
				errs[i] = errOut
			}
			ids[i] = strings.TrimSpace(out)
		}(i)
	}
	wg.Wait()
	ips := map[string]bool{}
	for i := 0; i < n; i++ {
		if errs[i] != "" {
			t.Errorf("parallel run %d: %s", i, errs[i])
			continue
		}
		ip := strings.TrimSpace(h.must("inspect", "-f", "{{.NetworkSettings.IPAddress}}", ids[i]))
		if ips[ip] {
			t.Errorf("address %s given twice", ip)
		}
		ips[ip] = true
	}
	// Crashes: kill the monitor of some detached containers, and the
	// mini-docker of some foreground runs, with SIGKILL.
	var killed int
	for i := 0; i < 10; i++ {
		id := strings.TrimSpace(h.must("run", "-d", ref, "sleep", "300"))
		mon := strings.TrimSpace(h.must("inspect", "-f", "{{.MiniDocker.MonitorPid}}", id))
		var pid int
		fmt.Sscan(mon, &pid)
		if pid > 0 && syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	for i := 0; i < 10; i++ {
		cmd := h.command(true, "run", ref, "sleep", "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+i*30) * time.Millisecond) // at various stages of the run
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	for i := 0; i < 60; i++ {
		if _, errOut, code := h.md("run", "--rm", ref, "true"); code != 0 {
			t.Errorf("run --rm true: exit %d %s", code, errOut)
		}
	}
	if killed == 0 {
		t.Error("no monitor was killed")
	}
	// The containers whose monitor died are still running: ps says so.
	ps := h.must("ps", "-q")
	if got := len(strings.Fields(ps)); got < n {
		t.Errorf("ps -q lists %d running containers, want at least %d", got, n)
	}
	all := strings.Fields(h.must("ps", "-aq", "--no-trunc"))
	h.must(append([]string{"rm", "-f"}, all...)...)
	h.must("container", "prune", "-f")
	h.assertNoLeaks()
}

// TestMonitorKilled: when a detached container's monitor is SIGKILLed,
// the container dies with it, by itself, before any command looks (its
// first process has SIGKILL as its parent-death signal, kept across -u's
// change of user and, as the tool chain, set again by the last hop), and
// the next command records exit 137, as Docker (containerd) does for a
// container whose shim died.
func TestMonitorKilled(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	for _, flags := range [][]string{nil, {"-u", "nobody"}, {"--tool-chain"}, {"--tool-chain", "-u", "nobody"}} {
		args := append(append([]string{"run", "-d", "--network", "none"}, flags...), ref, "sleep", "300")
		id := strings.TrimSpace(h.must(args...))
		var mon, pid int
		fmt.Sscan(h.must("inspect", "-f", "{{.MiniDocker.MonitorPid}} {{.State.Pid}}", id), &mon, &pid)
		if mon <= 0 || pid <= 0 {
			t.Fatalf("%v: monitor %d, pid %d", flags, mon, pid)
		}
		if err := syscall.Kill(mon, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); alive(pid); {
			if time.Now().After(deadline) {
				t.Fatalf("%v: the container (pid %d) still runs 30 s after its monitor was killed", flags, pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := h.must("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id); got != "exited 137\n" {
			t.Errorf("%v: after the monitor was killed: %q, want exited 137", flags, got)
		}
		if alive(pid) {
			t.Errorf("%v: the container (pid %d) runs on after its end was recorded", flags, pid)
		}
		h.must("rm", id)
	}
	h.assertNoLeaks()
}

// TestToolChainSameContainer runs the same containers twice: in one
// process (the default) and as the chain of tools --explain prints (run
// --tool-chain). What the command sees must be the same: credentials,
// capabilities, filter, cgroups, mounts, descriptors, environment.
func TestToolChainSameContainer(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	probe := `grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status; ` +
		`if [ $$ = 1 ]; then echo "pid 1"; else echo "pid >1"; fi; echo "ppid $PPID host $(hostname | wc -c) cwd $(pwd)"; env | sort | sed 's/^HOSTNAME=.*/HOSTNAME=X/'; ` +
		`sed 's/[0-9a-f]\{64\}/ID/g' /proc/self/cgroup; ls /proc/self/fd; ` +
		`awk '{o=$6; for(i=7;i<=NF;i++) if($i=="-"){print $5, o, $(i+1), $(i+3)}}' /proc/self/mountinfo | sed 's/[0-9a-f]\{64\}/ID/g' | sort`
	ids := regexp.MustCompile(`[0-9a-f]{64}|[0-9a-f]{12}`)
	for _, flags := range [][]string{
		{"--network", "none"},
		{"-u", "nobody", "--cap-drop", "CHOWN", "--cap-add", "NET_ADMIN", "--read-only", "--security-opt", "no-new-privileges", "-w", "/tmp"},
		{"--init", "--hostname", "box", "-m", "64m", "--pids-limit", "50"},
		{"--security-opt", "seccomp=unconfined", "-e", "FOO=bar"},
	} {
		var outs [2]string
		for i, mode := range [][]string{nil, {"--tool-chain"}} {
			args := append(append(append([]string{"run", "--rm"}, mode...), flags...), ref, "sh", "-c", probe)
			outs[i] = ids.ReplaceAllString(h.must(args...), "ID")
		}
		if outs[0] != outs[1] {
			t.Errorf("run %v: in one process and as the tool chain differ:\n--- one process\n%s\n--- tool chain\n%s", flags, outs[0], outs[1])
		}
	}
	h.assertNoLeaks()
}

// TestCpusetCpus: --cpuset-cpus reaches the kernel (the cgroup's
// cpuset.cpus, which the scheduler applies to every task of the group),
// and a CPU this machine lacks is refused before anything is made.
func TestCpusetCpus(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	out := h.must("run", "--rm", "--network", "none", "--cpuset-cpus", "0", ref, "grep", "Cpus_allowed_list", "/proc/self/status")
	if f := strings.Fields(out); len(f) != 2 || f[1] != "0" {
		t.Errorf("--cpuset-cpus 0: %q, want Cpus_allowed_list 0", out)
	}
	_, errOut, code := h.md("run", "--rm", "--network", "none", "--cpuset-cpus", "4096", ref, "true")
	if code != 125 || !strings.Contains(errOut, "requested CPUs are not available") {
		t.Errorf("--cpuset-cpus 4096: exit %d %q, want 125 and Docker's words", code, errOut)
	}
	h.assertNoLeaks()
}
