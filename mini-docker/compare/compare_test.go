package compare_test

// The compare suite: the probe under docker run and under mini-docker
// run, for the cases the issue names, against the test registry. Docker
// pulls the test image from the registry on loopback (dockerd runs in the
// host's network namespace, where the registry listens); mini-docker runs
// inside a network namespace this test made to play the host, so its
// default bridge never touches the real host's network.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/compare"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var toolNames = []string{"pull", "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "probe", "mini-docker-inside", "mini-docker"}

// knownBugs are the ✗ rows mini-docker gives today, each with its cause
// (the file to fix). compare shows them as ✗ and exits 1; the suite
// names them instead of failing on them, and fails on any other ✗. A
// prefix ending in "/" or "." matches every key under it; cases limits
// an entry to some suite cases.
var knownBugs = []struct {
	prefix, cause string
	cases         []string
}{
	// None today. The --privileged rows (/sys and the cgroup tree rw, the
	// host's devices in /dev) are fixed by construction: mini-docker runs
	// chroot --docker --privileged (chroot/jail). Docker cannot run
	// --privileged on the development VM (its bounding set lacks
	// CAP_SYS_RESOURCE, so runc fails to apply every capability), so that
	// case is still skipped there, not yet seen side by side.
}

func knownBug(caseName, key string) string {
	for _, b := range knownBugs {
		if len(b.cases) > 0 && !slices.Contains(b.cases, caseName) {
			continue
		}
		if key == b.prefix || (strings.HasSuffix(b.prefix, "/") || strings.HasSuffix(b.prefix, ".")) && strings.HasPrefix(key, b.prefix) {
			return b.cause
		}
	}
	return ""
}

// suite is the shared set-up: the built tools, the image in both
// runtimes, and the network namespace.
type suite struct {
	bin, root, netns, ref string
	// tmp is compare's TMPDIR: its probe folders (and the Docker
	// containers that mount them) are this suite's, not those of another
	// compare that runs at the same time (the lessons').
	tmp string
}

func setup(t *testing.T) *suite {
	t.Helper()
	testenv.Integration(t)
	// Without an engine the suite skips loudly; under CI=true that is a
	// failure unless the host names why it runs none.
	testenv.RequireDockerEngine(t)
	if _, err := compare.DockerVersion("docker"); err != nil {
		t.Fatalf("docker version: %v", err)
	}
	testenv.RequireCommand(t, "nsenter")
	testenv.RequireCommand(t, "ip")
	var bin string
	for _, n := range toolNames {
		bin = testenv.Bin(t, n)
	}
	bin = filepath.Join(filepath.Dir(bin), "mini-docker")
	b := make([]byte, 4)
	rand.Read(b)
	s := &suite{bin: bin, root: t.TempDir(), netns: "mdcmp-" + hex.EncodeToString(b), tmp: t.TempDir()}

	reg := testenv.SharedRegistry(t)
	s.ref = testenv.PushDebian(t, reg)
	if out, err := exec.Command("docker", "pull", "-q", s.ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", s.ref, err, out)
	}
	// -f: an auto-removed container may still hold the image for a moment.
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", s.ref).Run() })
	if out, err := s.command(false, "pull", "-q", s.ref).CombinedOutput(); err != nil {
		t.Fatalf("mini-docker pull %s: %v\n%s", s.ref, err, out)
	}

	// A run that had to be killed (see compareTimeout) leaves its
	// container: remove whatever this suite's mini-docker still holds.
	t.Cleanup(func() { s.removeContainers(t) })

	if out, err := exec.Command("ip", "netns", "add", s.netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", s.netns).Run() })
	exec.Command("ip", "-n", s.netns, "link", "set", "lo", "up").Run()
	return s
}

// removeContainers removes every container left in the suite's state
// root with rm -f, then what rm -f may leave of a run killed with SIGKILL
// (its cgroups, its network namespace), and says so.
func (s *suite) removeContainers(t *testing.T) {
	out, _ := s.command(false, "ps", "-aq", "--no-trunc").Output()
	for _, id := range strings.Fields(string(out)) {
		t.Errorf("container %s was left behind (a killed run); removing it", id)
		s.command(false, "rm", "-f", id).Run()
		// v1 and hybrid: one group per hierarchy; v2: one group.
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mini-docker/" + id)
		if v2, _ := filepath.Glob("/sys/fs/cgroup/mini-docker/" + id); len(v2) > 0 {
			dirs = append(dirs, v2...)
		}
		for _, d := range dirs {
			t.Errorf("rm -f left cgroup %s", d)
			os.Remove(d)
		}
		if len(id) >= 12 {
			exec.Command("ip", "netns", "del", "md-"+id[:12]).Run()
		}
	}
}

// command runs the built mini-docker, in the test's network namespace
// or in the host's (pulls only).
func (s *suite) command(inNetns bool, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if inNetns {
		cmd = exec.Command("nsenter", append([]string{"--net=/run/netns/" + s.netns, s.bin}, args...)...)
	} else {
		cmd = exec.Command(s.bin, args...)
	}
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+s.root)
	return cmd
}

// compareTimeout bounds one compare (two runs of a probe that takes well
// under a second): a run that hangs fails the test instead of the whole
// package's timeout, and its process group is killed. A minute, or
// MINI_DOCKER_COMPARE_TIMEOUT (a Go duration): under emulation a docker
// run alone took 24-60 s (debian13-v2, TCG, host load 20-30), and
// scripts/vm-matrix gives the suite 10 minutes a compare there.
var compareTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("MINI_DOCKER_COMPARE_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return time.Minute
}()

func (s *suite) compare(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := s.command(true, append([]string{"compare"}, args...)...)
	cmd.Env = append(cmd.Env, "TMPDIR="+s.tmp)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	probesBefore, _ := filepath.Glob(filepath.Join(s.tmp, "mini-docker-probe-*"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var hung atomic.Bool
	var tree string
	timer := time.AfterFunc(compareTimeout, func() {
		hung.Store(true)
		tree = processTree(cmd.Process.Pid, "")
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	err := cmd.Wait()
	timer.Stop()
	if hung.Load() {
		// compare was killed before it could remove its probe folder.
		probesAfter, _ := filepath.Glob(filepath.Join(s.tmp, "mini-docker-probe-*"))
		for _, p := range probesAfter {
			if !slices.Contains(probesBefore, p) {
				os.RemoveAll(p)
			}
		}
		t.Fatalf("compare %s hung for %v and was killed; its processes then:\n%sstderr so far:\n%s",
			strings.Join(args, " "), compareTimeout, tree, errOut.String())
	}
	code = 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// processTree describes pid and its descendants (state and command), to
// tell which process a hung run was waiting for.
func processTree(pid int, indent string) string {
	p := strconv.Itoa(pid)
	stat, _ := os.ReadFile("/proc/" + p + "/stat")
	state := "?"
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
		state = string(stat[i+2])
	}
	cmdline, _ := os.ReadFile("/proc/" + p + "/cmdline")
	cmd := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if cmd == "" {
		comm, _ := os.ReadFile("/proc/" + p + "/comm")
		cmd = "[" + strings.TrimSpace(string(comm)) + "]"
	}
	if len(cmd) > 160 {
		cmd = cmd[:160] + "..."
	}
	out := fmt.Sprintf("%s%d %s %s\n", indent, pid, state, cmd)
	tasks, _ := filepath.Glob("/proc/" + p + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, c := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(c); err == nil {
				out += processTree(n, indent+"  ")
			}
		}
	}
	return out
}

// leftovers counts what runs can leave behind: containers and mounts of
// this suite's mini-docker, its probe folders, the Docker containers that
// mount one. (Other tests may make mounts, cgroups and Docker containers
// of the same image at the same time: only ours count.)
func leftovers(t *testing.T, s *suite) string {
	t.Helper()
	conts, _ := filepath.Glob(filepath.Join(s.root, "containers", "[0-9a-f]*"))
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	probes, _ := filepath.Glob(filepath.Join(s.tmp, "mini-docker-probe-*"))
	dps, _ := exec.Command("docker", "ps", "-aq", "--filter", "ancestor="+s.ref).Output()
	docker := 0
	for _, id := range strings.Fields(string(dps)) {
		binds, _ := exec.Command("docker", "inspect", "-f", "{{range .Mounts}}{{.Source}}\n{{end}}", id).Output()
		if strings.Contains(string(binds), s.tmp+"/") {
			docker++
		}
	}
	return fmt.Sprintf("containers %d, mounts %d, probe folders %d, docker containers %d",
		len(conts), strings.Count(string(mounts), s.root), len(probes), docker)
}

// noCgroupLeft checks that the cgroups of the mini-docker container the
// report shows are gone (the probe printed its cgroup path).
func noCgroupLeft(t *testing.T, r *compare.Report) {
	t.Helper()
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Key, "cgroup.path.") && strings.HasPrefix(row.Mini, "/mini-docker/") {
			if left, _ := filepath.Glob("/sys/fs/cgroup/*" + row.Mini); len(left) > 0 {
				t.Errorf("cgroups left behind: %v", left)
			}
			return
		}
	}
}

// dockerCannot tells whether Docker itself failed to run the case on
// this host (then there is nothing to compare).
func dockerCannot(errOut string) string {
	if strings.Contains(errOut, "docker run:") && strings.Contains(errOut, "unable to apply caps: operation not permitted") {
		return "Docker itself cannot run this case here: runc could not apply every capability (this host's bounding set lacks some; see CapBnd in /proc/self/status)"
	}
	return ""
}

// TestCompareSuite: each case of the issue, asserting no ✗ beyond the
// known bugs above.
func TestCompareSuite(t *testing.T) {
	s := setup(t)
	cases := []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"network-none", []string{"--network", "none"}},
		// The /etc files' flags (a user network of Docker's would be a bridge
		// on the host's namespace, which the tests leave alone).
		{"network-none-names", []string{"--network", "none", "-h", "box", "--add-host", "db:10.1.2.3", "--dns", "9.9.9.9",
			"--dns-search", "a.example", "--dns-option", "ndots:2"}},
		{"limits", []string{"-m", "64m", "--cpus", "0.5", "--pids-limit", "50"}},
		{"caps", []string{"--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"}},
		{"read-only", []string{"--read-only"}},
		{"user", []string{"-u", "1000:1000"}},
		{"no-new-privileges", []string{"--security-opt", "no-new-privileges"}},
		{"seccomp-unconfined", []string{"--security-opt", "seccomp=unconfined"}},
		{"privileged", []string{"--privileged"}},
		// Last round's run flags, each ending in a primitive the probe sees:
		// prlimit (rlimit.*), the /dev/shm tmpfs's size, the device node.
		{"ulimit-shm-device", []string{"--network", "none", "--ulimit", "nofile=1024:2048", "--ulimit", "core=1000:2000",
			"--shm-size", "128m", "--device", "/dev/null:/dev/xnull"}},
		// The memory cgroup's soft limit and OOM killer switch (v1's
		// soft_limit_in_bytes and oom_control, v2's memory.low; on v2
		// both engines drop --oom-kill-disable with a warning).
		{"memory-soft", []string{"--network", "none", "-m", "128m", "--memory-reservation", "32m", "--oom-kill-disable"}},
	}
	before := leftovers(t, s)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := s.compare(t, append(append([]string{"--json"}, tc.flags...), s.ref)...)
			var r compare.Report
			if why := dockerCannot(errOut); why != "" && code == 125 {
				fmt.Fprintln(os.Stderr, "!!! compare "+tc.name+" SKIPPED: "+why)
				t.Skip(why)
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("compare %s: exit %d, no report: %v\n%s%s", strings.Join(tc.flags, " "), code, err, out, errOut)
			}
			t.Logf("%d ✓  %d ~  %d ✗   docker %.3fs  mini-docker %.3fs  ratio %.2f",
				r.Same, r.Must, r.Differs, r.Docker.Elapsed.Seconds(), r.Mini.Elapsed.Seconds(), r.Ratio)
			// Each ~ with its reason (the list bench/results/compare-*.md keeps).
			for _, row := range r.Rows {
				if row.Mark == compare.Must {
					t.Logf("~ %s %s: %s", tc.name, row.Key, row.Why)
				}
			}
			noCgroupLeft(t, &r)
			if (code != 0) != (r.Differs > 0) {
				t.Errorf("exit %d with %d ✗ rows: want non-zero exactly when a row is ✗", code, r.Differs)
			}
			known := map[string]bool{}
			for _, row := range r.Failed() {
				if cause := knownBug(tc.name, row.Key); cause != "" {
					known[cause] = true
					t.Logf("✗ %s: docker %q, mini-docker %q (known)", row.Key, row.Docker, row.Mini)
					continue
				}
				t.Errorf("✗ %s: docker %q, mini-docker %q %s", row.Key, row.Docker, row.Mini, row.Why)
			}
			var causes []string
			for c := range known {
				causes = append(causes, c)
			}
			sort.Strings(causes)
			for _, c := range causes {
				t.Logf("known mini-docker bug (✗): %s", c)
			}
		})
	}
	if after := leftovers(t, s); after != before {
		t.Errorf("left behind: before %s; after %s", before, after)
	}
}

// TestCompareCatchesBrokenMiniDocker: a mini-docker that keeps every
// capability (--cap-add ALL on its side only) makes compare show the ✗
// row and exit non-zero.
func TestCompareCatchesBrokenMiniDocker(t *testing.T) {
	s := setup(t)
	out, errOut, code := s.compare(t, "--explain", "--network", "none", "--mini-docker-only", "--cap-add ALL", s.ref)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	// --explain shows both runs, the broken flag on mini-docker's only.
	for _, want := range []string{
		"+ docker run --rm -v /", ":/.mini-docker-probe:ro --network none " + s.ref + " /.mini-docker-probe/probe --host-ns=",
		" run --rm -v /", ":/.mini-docker-probe:ro --network none --cap-add ALL " + s.ref,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--explain lacks %q:\n%s", want, errOut)
		}
	}
	var effective string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "cap.effective ") {
			effective = l
		}
	}
	if !strings.Contains(effective, "00000000a80425fb") || !strings.HasSuffix(effective, "✗") {
		t.Errorf("want the cap.effective row with Docker's default set and ✗, got %q\n%s", effective, out)
	}
	if !strings.Contains(out, "ratio mini-docker/docker:") {
		t.Errorf("no timing line:\n%s", out)
	}
}

// TestCompareBadInput: usage errors exit 125 before running anything.
func TestCompareBadInput(t *testing.T) {
	s := setup(t)
	for _, args := range [][]string{
		{},
		{"-d", s.ref},
		{s.ref, "echo", "hi"},
		{"--probe", "/nonexistent/probe", s.ref},
	} {
		out, errOut, code := s.compare(t, args...)
		if code != 125 || !strings.HasPrefix(errOut, "mini-docker") {
			t.Errorf("compare %q: exit %d, stderr %q, stdout %q: want 125 and one error line", args, code, errOut, out)
		}
	}
}

// TestProcessTree: the hang report shows the children with their state.
func TestProcessTree(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	tree := processTree(os.Getpid(), "")
	child := regexp.MustCompile(fmt.Sprintf(`(?m)^  %d [RSD] sleep 30$`, cmd.Process.Pid))
	if !child.MatchString(tree) {
		t.Errorf("tree lacks the sleeping child:\n%s", tree)
	}
}
