package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// box is one test's own parent group, unique to the run, so tests never
// touch mini-docker's real groups, and it must be gone when the test ends.
type box struct {
	t      *testing.T
	bin    string
	hog    string
	parent string
	extra  []string // --mode v2 for the tests of the v2 tree
}

func newBox(t *testing.T, extra ...string) *box {
	t.Helper()
	testenv.Integration(t)
	b := &box{t: t, bin: testenv.Bin(t, "cgroupctl"), hog: testenv.Bin(t, "hog"),
		parent: fmt.Sprintf("mini-docker-test-%d-%s", os.Getpid(), strings.ToLower(t.Name())), extra: extra}
	b.parent = strings.NewReplacer("/", "-", "_", "-").Replace(b.parent)
	t.Cleanup(b.assertGone)
	return b
}

// dirs are where the parent would be, in every hierarchy and the v2 tree.
func (b *box) dirs() []string {
	h, err := cgroup.Detect()
	if err != nil {
		b.t.Fatal(err)
	}
	var d []string
	seen := map[string]bool{}
	for _, mp := range h.V1 {
		if !seen[mp] {
			seen[mp] = true
			d = append(d, filepath.Join(mp, b.parent))
		}
	}
	if h.V2Root != "" {
		d = append(d, filepath.Join(h.V2Root, b.parent))
	}
	return d
}

// assertGone fails the test when anything of the parent is left, after
// removing it so one failure does not leak into the next run.
func (b *box) assertGone() {
	for _, d := range b.dirs() {
		if _, err := os.Stat(d); err == nil {
			b.t.Errorf("left behind: %s", d)
			for _, mode := range []string{"v1", "v2"} {
				names, _ := os.ReadDir(d)
				for _, n := range names {
					if n.IsDir() {
						exec.Command(b.bin, "delete", "--kill", "--mode", mode, "--parent", b.parent, n.Name()).Run()
					}
				}
			}
			syscall.Rmdir(d)
		}
	}
}

// run runs cgroupctl with the box's parent and returns stdout, stderr and
// the exit code as a shell would show it (128+N for signal N).
func (b *box) run(args ...string) (string, string, int) {
	b.t.Helper()
	cmd := b.cmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), exitCode(b.t, err)
}

func (b *box) cmd(args ...string) *exec.Cmd {
	a := append([]string{args[0], "--parent", b.parent}, b.extra...)
	a = append(a, args[1:]...)
	return exec.Command(b.bin, a...)
}

func (b *box) must(args ...string) string {
	b.t.Helper()
	out, errs, code := b.run(args...)
	if code != 0 {
		b.t.Fatalf("cgroupctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func exitCode(t testing.TB, err error) int {
	if err == nil {
		return 0
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		ws := x.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
	t.Fatal(err)
	return -1
}

func (b *box) stats(name string) cgroup.Stats {
	b.t.Helper()
	var s cgroup.Stats
	if err := json.Unmarshal([]byte(b.must("stats", "--json", name)), &s); err != nil {
		b.t.Fatal(err)
	}
	return s
}

// start runs `cgroupctl exec --name NAME -- CMD` in the background and
// waits until the command is in the group.
func (b *box) start(name string, argv ...string) *exec.Cmd {
	b.t.Helper()
	cmd := b.cmd(append([]string{"exec", "--name", name, "--"}, argv...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; len(b.stats(name).Procs) == 0; i++ {
		if i > 500 {
			b.t.Fatalf("%v never joined %s", argv, name)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd
}

// Done when: exec --memory 32m -- hog mem 64m is killed by the OOM killer
// (exit 137) and stats reports at least one OOM kill.
func TestOOMKill(t *testing.T) {
	b := newBox(t)
	out, errs, code := b.run("exec", "--name", "t1", "--memory", "32m", "--", b.hog, "mem", "64m")
	if code != 137 {
		t.Fatalf("exit %d, want 137 (SIGKILL from the OOM killer)\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "allocated 64m") {
		t.Errorf("hog allocated all 64m under a 32m limit:\n%s", out)
	}
	s := b.stats("t1")
	if s.Memory == nil || s.Memory.OOMKills < 1 {
		t.Fatalf("stats show no OOM kill: %+v", s.Memory)
	}
	if s.Memory.Limit != 32<<20 {
		t.Errorf("memory limit %d, want %d", s.Memory.Limit, 32<<20)
	}
	human := b.must("stats", "t1")
	if !strings.Contains(human, "OOM kill(s)") {
		t.Errorf("stats output:\n%s", human)
	}
	b.must("delete", "t1")
}

// Done when: --cpus 0.2 holds a spinner to 20% of one CPU over 3 s,
// measured from the group's own CPU usage (at most 25%), and the group
// was throttled when the spinner got its share.
func TestCPUQuota(t *testing.T) {
	b := newBox(t)
	b.must("create", "spin", "--cpus", "0.2")
	b.start("spin", b.hog, "cpu", "60")
	time.Sleep(300 * time.Millisecond) // past the first period, whose quota is fresh
	// The share in a 3 s window, in up to 3 windows, the lowest: in a VM
	// whose kernel does not see the time its virtual CPU was taken away
	// (QEMU's TCG: no steal clock), that time is charged to the spinner
	// as if it ran, and the kernel makes it up by throttling the next
	// periods. A window that ends before the debt is paid reads high
	// (26.4% under --cpus 0.2 in the debian13-v2 VM at host load 24),
	// one that begins with a debt reads low. A spinner the limit does
	// not hold reads high in every window.
	share := 1.0
	for i := 0; i < 3 && share > 0.25; i++ {
		s0, t0 := b.stats("spin").CPU.UsageUsec, time.Now()
		time.Sleep(3 * time.Second)
		s1, t1 := b.stats("spin").CPU.UsageUsec, time.Now()
		w := float64(s1-s0) / float64(t1.Sub(t0).Microseconds())
		t.Logf("spinner used %.1f%% of one CPU under --cpus 0.2 (window %d)", w*100, i+1)
		share = min(share, w)
	}
	// Only the upper bound is the limit's: on a busy host (other tests,
	// CI's parallel packages) the spinner may get less than its fifth.
	if share > 0.25 {
		t.Errorf("spinner used %.1f%% of a CPU, want at most 20%% (+25%%)", share*100)
	}
	// A spinner that got its fifth was throttled; on a host too busy to
	// give it that much, the quota never ran out and nothing was.
	if st := b.stats("spin").CPU; st.Throttled == 0 && share >= 0.18 {
		t.Errorf("spinner used %.1f%% of a CPU and no throttled period is reported: %+v", share*100, st)
	}
	b.must("delete", "--kill", "spin")
}

// Done when: --pids-limit 20 caps a forker at 20 tasks.
func TestPidsLimit(t *testing.T) {
	b := newBox(t)
	out, errs, code := b.run("exec", "--name", "fb", "--pids-limit", "20", "--", b.hog, "fork", "100")
	if code != 1 || !strings.Contains(out, "fork failed") {
		t.Fatalf("exit %d, want hog's 1 after a refused fork\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "= 20\n") {
		t.Errorf("tasks at the peak are not 20:\n%s", out)
	}
	s := b.stats("fb")
	if s.Pids == nil || s.Pids.Max != 20 || s.Pids.Refused < 1 {
		t.Errorf("pids stats = %+v, want max 20 and a refused fork", s.Pids)
	}
	b.must("delete", "fb")
}

// Done when: exec --cpuset-cpus 0 runs its command on CPU 0 only, as
// the kernel reports the task's affinity.
func TestCpuset(t *testing.T) {
	b := newBox(t)
	out, errs, code := b.run("exec", "--name", "cs", "--cpuset-cpus", "0", "--", "grep", "Cpus_allowed_list", "/proc/self/status")
	if code != 0 || out != "Cpus_allowed_list:\t0\n" {
		t.Fatalf("exit %d, want the affinity of CPU 0 alone:\n%s%s", code, out, errs)
	}
	b.must("delete", "cs")
}

// Done when: freeze stops a counter from advancing; thaw resumes it.
func TestFreezeThaw(t *testing.T) {
	b := newBox(t)
	testFreezeThaw(t, b)
}

func testFreezeThaw(t *testing.T, b *box) {
	file := filepath.Join(t.TempDir(), "count")
	b.must("create", "c1")
	b.start("c1", b.hog, "count", file)
	// A v1 freezer holds even SIGKILL until thaw: a test that fails while
	// c1 is frozen thaws it first, or start's cleanup waits forever.
	t.Cleanup(func() { b.run("thaw", "c1") })
	counter := func() int {
		t.Helper()
		s, _ := os.ReadFile(file)
		n, _ := strconv.Atoi(strings.TrimSpace(string(s)))
		return n
	}
	for deadline := time.Now().Add(time.Minute); counter() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("counter never started")
		}
	}
	b.must("freeze", "c1")
	if !b.stats("c1").Frozen {
		t.Error("stats do not say frozen")
	}
	a := counter()
	time.Sleep(300 * time.Millisecond)
	if c := counter(); c != a {
		t.Fatalf("counter went from %d to %d while frozen", a, c)
	}
	b.must("thaw", "c1")
	// The thawed counter runs again when the scheduler next gives it a
	// CPU, which on a loaded host may be well after thaw returns: wait for
	// it, with a deadline only a counter that stays frozen reaches.
	for deadline := time.Now().Add(time.Minute); counter() <= a; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("counter stuck at %d a minute after thaw", counter())
		}
	}
	b.must("delete", "--kill", "c1")
}

// Done when: delete leaves nothing behind in any hierarchy.
func TestDeleteLeavesNothing(t *testing.T) {
	b := newBox(t)
	out := b.must("create", "all", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5",
		"--cpu-shares", "512", "--pids-limit", "50", "--cpuset-cpus", "0")
	made := strings.Fields(out)
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	g, err := cgroup.New(h, b.parent, "all")
	if err != nil {
		t.Fatal(err)
	}
	// One directory on v2; one per hierarchy on v1 (and the cgroup2 one on
	// a hybrid host).
	if want := g.Dirs(); strings.Join(made, " ") != strings.Join(want, " ") {
		t.Fatalf("create printed %q, want a directory per tree: %q", out, want)
	}
	for _, d := range made {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("create printed %s, which does not exist", d)
		}
	}
	b.start("all", b.hog, "count", filepath.Join(t.TempDir(), "n"))
	// A group with a live process is refused without --kill, and kept.
	_, errs, code := b.run("delete", "all")
	if code != 125 || !strings.Contains(errs, "live process") {
		t.Fatalf("delete with a live process: exit %d, %s", code, errs)
	}
	for _, d := range made {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("refused delete removed %s", d)
		}
	}
	b.must("delete", "--kill", "all")
	for _, d := range append(made, b.dirs()...) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s still exists after delete", d)
		}
	}
}

// TestNestedParent: --parent several levels deep (an OCI bundle's
// testdir/cgrouptest) makes each missing level, --explain printing each
// mkdir, and delete removes the levels left empty, each rmdir printed.
func TestNestedParent(t *testing.T) {
	b := newBox(t)
	nested := b.parent + "/testdir/cgrouptest"
	_, errs, code := b.run("create", "--parent", nested, "--explain", "--pids-limit", "20", "c")
	if code != 0 {
		t.Fatalf("create: exit %d\n%s", code, errs)
	}
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	g, err := cgroup.New(h, nested, "c")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.Dirs() {
		for _, want := range []string{filepath.Dir(filepath.Dir(d)), filepath.Dir(d), d} {
			if !strings.Contains(errs, "+ mkdir "+want+"\n") {
				t.Errorf("--explain does not show mkdir %s:\n%s", want, errs)
			}
		}
	}
	out := b.must("exec", "--parent", nested, "--name", "c", "--", "cat", "/proc/self/cgroup")
	if !strings.Contains(out, ":/"+nested+"/c\n") {
		t.Errorf("/proc/self/cgroup does not show /%s/c:\n%s", nested, out)
	}
	_, errs, code = b.run("delete", "--parent", nested, "--explain", "c")
	if code != 0 {
		t.Fatalf("delete: exit %d\n%s", code, errs)
	}
	for _, d := range g.Dirs() {
		if !strings.Contains(errs, "+ rmdir "+filepath.Dir(filepath.Dir(d))+"\n") {
			t.Errorf("--explain does not show rmdir of the emptied level %s:\n%s", filepath.Dir(filepath.Dir(d)), errs)
		}
	}
}

// Bad input: one-line errors, exit 125, nothing half-created.
func TestBadInput(t *testing.T) {
	b := newBox(t)
	type badCase struct {
		name string
		args []string
		want string
	}
	tests := []badCase{
		{"bad unit", []string{"create", "t1", "--memory", "10XB"}, "invalid size"},
		{"negative size", []string{"create", "t1", "--memory", "-5m"}, "negative"},
		{"zero memory", []string{"create", "t1", "--memory", "0"}, "minimum memory"},
		{"zero pids", []string{"create", "t1", "--pids-limit", "0"}, "--pids-limit"},
		{"negative pids", []string{"create", "t1", "--pids-limit", "-3"}, "--pids-limit"},
		{"zero cpus", []string{"create", "t1", "--cpus", "0"}, "range of CPUs"},
		{"cpus above the CPU count", []string{"create", "t1", "--cpus", strconv.Itoa(runtime.NumCPU() + 1)}, "range of CPUs"},
		{"cpuset beyond the CPUs", []string{"create", "t1", "--cpuset-cpus", "0-" + strconv.Itoa(runtime.NumCPU())}, "not available"},
		{"swap below memory", []string{"create", "t1", "--memory", "64m", "--memory-swap", "32m"}, "at least --memory"},
		{"bad name", []string{"create", "../t1"}, "invalid cgroup name"},
		{"parent escaping the tree", []string{"create", "t1", "--parent", "a/../../etc"}, "invalid parent cgroup"},
		{"absolute parent", []string{"create", "t1", "--parent", "/a/b"}, "invalid parent cgroup"},
		{"unknown group stats", []string{"stats", "nosuch"}, "no such cgroup"},
		{"unknown group delete", []string{"delete", "nosuch"}, "no such cgroup"},
		{"unknown group exec", []string{"exec", "--name", "nosuch", "--", "true"}, "no such cgroup"},
		{"exec of a missing command", []string{"exec", "--name", "t1", "--memory", "32m", "--", "no-such-command-here"}, "not found"},
	}
	// The tree the host does not have, or has without controllers.
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	switch h.Mode {
	case cgroup.Hybrid:
		tests = append(tests, badCase{"controller the v2 tree lacks", []string{"create", "t1", "--mode", "v2", "--memory", "32m"}, "memory controller is not available"})
	case cgroup.V1:
		tests = append(tests, badCase{"no v2 tree", []string{"create", "t1", "--mode", "v2"}, "no cgroup2 file system is mounted"})
	case cgroup.V2:
		tests = append(tests, badCase{"no v1 tree", []string{"create", "t1", "--mode", "v1"}, "no v1 hierarchy is mounted"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := b.run(tt.args...)
			want := 125
			if tt.args[0] == "exec" && tt.want == "not found" {
				want = 127 // Docker's code for a command that does not exist
			}
			if code != want {
				t.Errorf("exit %d, want %d\n%s%s", code, want, out, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if !strings.HasPrefix(lines[0], "cgroupctl: error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one 'cgroupctl: error:' line with %q", errs, tt.want)
			}
			if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "cgroupctl: hint: ")) {
				t.Errorf("stderr is more than an error and a hint:\n%s", errs)
			}
			for _, d := range b.dirs() {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("half-created: %s exists", d)
				}
			}
		})
	}
}

// The composition contract: `unshare --pid --fork -- cgroupctl exec` runs
// as PID 1 of a new PID namespace, where its own PID means nothing to the
// host (writing "1" would move the host's init). It joins by writing 0.
func TestExecInNewPIDNamespace(t *testing.T) {
	b := newBox(t)
	// util-linux's unshare (the toolkit's own one may come first on PATH).
	unshare := "/usr/bin/unshare"
	if _, err := os.Stat(unshare); err != nil {
		unshare = testenv.RequireCommand(t, "unshare")
	}
	b.must("create", "ns1", "--pids-limit", "50")
	args := []string{"--pid", "--fork", "--mount", "--cgroup", "--", b.bin, "exec", "--parent", b.parent, "--name", "ns1", "--", "/bin/sh", "-c", "echo pid $$; cat /proc/self/cgroup"}
	out, code := testenv.Run(t, unshare, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "pid 1\n") {
		t.Errorf("the command is not PID 1 of its namespace:\n%s", out)
	}
	// In a new cgroup namespace the paths are relative to the group the
	// namespace was made in ("/../../" above it, for this test's memory group).
	// A line names its hierarchy by its controllers ("cpu,cpuacct" when
	// co-mounted); the v2 line by none ("0::/...").
	joined := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && strings.HasSuffix(f[2], "/"+b.parent+"/ns1") {
			for _, c := range strings.Split(f[1], ",") {
				joined[c] = true
			}
		}
	}
	want := []string{"pids", "memory", "freezer", "cpu", "cpuacct", "cpuset"}
	if h, err := cgroup.Detect(); err != nil {
		t.Fatal(err)
	} else if h.Driver == cgroup.V2 {
		want = []string{""}
	}
	for _, c := range want {
		if !joined[c] {
			t.Errorf("not in %q group %s/ns1:\n%s", c, b.parent, out)
		}
	}
	b.must("delete", "ns1")
}

// The v2 code path on a real kernel: this hybrid host's cgroup2 tree has
// no controllers, but groups, cgroup.procs, cgroup.freeze, cgroup.kill,
// cpu.stat and rmdir work there (--mode v2).
func TestV2TreeOnRealKernel(t *testing.T) {
	b := newBox(t, "--mode", "v2")
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireFeature(t, h.V2Root != "", "no cgroup2 tree mounted")
	out := b.must("create", "c1")
	if want := filepath.Join(h.V2Root, b.parent, "c1"); strings.TrimSpace(out) != want {
		t.Fatalf("create printed %q, want %s", out, want)
	}
	b.must("delete", "c1")
	testFreezeThaw(t, b)
	// cgroup.kill ends a group with a live process; the group goes away.
	b.must("create", "k1")
	cmd := b.start("k1", b.hog, "cpu", "60")
	_, errs, code := b.run("delete", "--kill", "--explain", "k1")
	if code != 0 || !strings.Contains(errs, "+ echo 1 > "+filepath.Join(h.V2Root, b.parent, "k1", "cgroup.kill")) {
		t.Fatalf("delete --kill: exit %d, want it to write cgroup.kill:\n%s", code, errs)
	}
	if code := exitCode(t, cmd.Wait()); code != 137 {
		t.Errorf("process in the killed group exited %d, want 137", code)
	}
}

// set changes limits of a live group in the kernel's order (v1 memsw may
// never fall below memory: growing writes memsw first, shrinking memory
// first), and add moves a running process in.
func TestSetAndAdd(t *testing.T) {
	b := newBox(t)
	b.must("create", "s1", "--memory", "32m", "--cpus", "0.5", "--pids-limit", "10")
	for _, tt := range []struct {
		args  []string
		mem   int64
		quota int64
		pids  int64
	}{
		// (--cpus at most 1: a host may have one CPU, and cgroupctl
		// refuses more than the host has, as Docker does)
		{[]string{"--memory", "128m", "--cpus", "0.8"}, 128 << 20, 80000, 10},
		{[]string{"--memory", "16m", "--pids-limit", "-1"}, 16 << 20, 80000, -1},
	} {
		b.must(append([]string{"set", "s1"}, tt.args...)...)
		s := b.stats("s1")
		if s.Memory.Limit != tt.mem || s.CPU.QuotaUsec != tt.quota || s.Pids.Max != tt.pids {
			t.Errorf("after set %v: memory %d, quota %d, pids %d; want %d, %d, %d",
				tt.args, s.Memory.Limit, s.CPU.QuotaUsec, s.Pids.Max, tt.mem, tt.quota, tt.pids)
		}
	}
	sleeper := exec.Command(b.hog, "cpu", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Wait()
	b.must("add", "s1", strconv.Itoa(sleeper.Process.Pid))
	if p := b.stats("s1").Procs; len(p) != 1 || p[0] != sleeper.Process.Pid {
		t.Errorf("procs after add = %v, want [%d]", p, sleeper.Process.Pid)
	}
	list := b.must("list")
	if !strings.Contains(list, "s1 ") || !strings.Contains(list, " 1 ") {
		t.Errorf("list does not show s1 with 1 process:\n%s", list)
	}
	b.must("delete", "--kill", "s1")
}
