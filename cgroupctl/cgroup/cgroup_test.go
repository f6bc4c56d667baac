package cgroup

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"mini-docker/internal/explain"
)

const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const v1Mountinfo = `25 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
`

const v2Mountinfo = `26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestParseMode(t *testing.T) {
	tests := []struct {
		name      string
		mountinfo string
		mode      Mode
		driver    Mode
		v2root    string
		v1        map[string]string
	}{
		{"hybrid", hybridMountinfo, Hybrid, V1, "/sys/fs/cgroup/unified", map[string]string{
			"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
			"memory": "/sys/fs/cgroup/memory", "freezer": "/sys/fs/cgroup/freezer"}},
		{"v1 with co-mounted cpu,cpuacct", v1Mountinfo, V1, V1, "", map[string]string{
			"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "pids": "/sys/fs/cgroup/pids"}},
		{"v2", v2Mountinfo, V2, V2, "/sys/fs/cgroup", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Parse([]byte(tt.mountinfo), []byte("4:memory:/a/b\n0::/user.slice\n"))
			if err != nil {
				t.Fatal(err)
			}
			if h.Mode != tt.mode || h.Driver != tt.driver || h.V2Root != tt.v2root {
				t.Errorf("mode %s driver %s v2root %q, want %s %s %q", h.Mode, h.Driver, h.V2Root, tt.mode, tt.driver, tt.v2root)
			}
			if len(h.V1) != len(tt.v1) {
				t.Errorf("v1 = %v, want %v", h.V1, tt.v1)
			}
			for c, p := range tt.v1 {
				if h.V1[c] != p {
					t.Errorf("v1[%s] = %q, want %q", c, h.V1[c], p)
				}
			}
			if h.Self["memory"] != "/a/b" || h.Self[""] != "/user.slice" {
				t.Errorf("self = %v", h.Self)
			}
		})
	}
	if _, err := Parse([]byte("1 0 0:1 / / rw - ext4 /dev/sda1 rw\n"), nil); err == nil {
		t.Error("no cgroup mounted: want an error")
	}
}

func TestCoMountedHierarchyUsedOnce(t *testing.T) {
	h, _ := Parse([]byte(v1Mountinfo), nil)
	g, _ := New(h, "mini-docker", "t1")
	want := []string{"/sys/fs/cgroup/cpu,cpuacct/mini-docker/t1", "/sys/fs/cgroup/pids/mini-docker/t1"}
	if got := g.Dirs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dirs = %v, want %v", got, want)
	}
}

func TestParseLimits(t *testing.T) {
	n := runtime.NumCPU()
	bad := []struct {
		what string
		err  error
	}{
		{"--memory 0", second(ParseMemory("0"))},
		{"--memory 1m (below Docker's 6MB)", second(ParseMemory("1m"))},
		{"--memory-swap 0", second(ParseMemorySwap("0"))},
		{"--cpus 0", second(ParseCPUs("0"))},
		{"--cpus -1", second(ParseCPUs("-1"))},
		{"--cpus above the CPU count", second(ParseCPUs(strconv.Itoa(n + 1)))},
		{"--cpus abc", second(ParseCPUs("abc"))},
		{"--cpu-shares 1", second(ParseShares("1"))},
		{"--pids-limit 0", second(ParsePids("0"))},
		{"--pids-limit -5", second(ParsePids("-5"))},
		{"--cpuset-cpus beyond the CPUs", second(ParseCpuset("0-" + strconv.Itoa(n)))},
		{"--cpuset-cpus 1-0", second(ParseCpuset("1-0"))},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: want an error", b.what)
		} else if strings.Contains(b.err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", b.what, b.err)
		}
	}
	if v, err := ParseCPUs("0.2"); err != nil || v != 2e8 {
		t.Errorf("ParseCPUs(0.2) = %d, %v", v, err)
	}
	if _, err := ParseCPUs(strconv.Itoa(n)); err != nil {
		t.Errorf("--cpus %d (all CPUs) refused: %v", n, err)
	}
	if v, err := ParseMemorySwap("-1"); err != nil || v != -1 {
		t.Errorf("ParseMemorySwap(-1) = %d, %v", v, err)
	}
	if v, err := ParsePids("-1"); err != nil || v != -1 {
		t.Errorf("ParsePids(-1) = %d, %v", v, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestSharesToWeight(t *testing.T) {
	// runc's (opencontainers/cgroups) conversion: minimum, default and
	// maximum map onto each other.
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 100, 262144: 10000, 512: 59, 2048: 174} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

// fakeV2 lays out a temporary directory like a cgroup2 root offering
// the given controllers.
func fakeV2(t *testing.T, controllers string) *Host {
	t.Helper()
	root := t.TempDir()
	for f, v := range map[string]string{"cgroup.controllers": controllers, "cgroup.subtree_control": "", "cgroup.procs": "1\n"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := &Host{Mode: V2, V2Root: root, Driver: V2, V1: map[string]string{}}
	h.V2Available = readControllers(root)
	return h
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestV2ControllerFiles runs Create against a directory laid out like a
// cgroup2 root (the v2 tree of this hybrid host has no controllers, so
// memory.max, cpu.max, pids.max and subtree_control can only be checked
// here): the controllers are handed down through every ancestor's
// cgroup.subtree_control and the limits land in v2's file names.
func TestV2ControllerFiles(t *testing.T) {
	h := fakeV2(t, "cpuset cpu io memory hugetlb pids rdma")
	var out bytes.Buffer
	r := Resources{Memory: 32 << 20, MemorySwap: -1, NanoCPUs: 5e8, CPUShares: 1024, PidsLimit: 20, CpusetCpus: "0"}
	g, _, err := Create(h, "mini-docker", "t1", r, explain.New(&out))
	if err != nil {
		t.Fatal(err)
	}
	root := h.V2Root
	d := filepath.Join(root, "mini-docker", "t1")
	want := map[string]string{
		filepath.Join(root, "cgroup.subtree_control"):                "+cpuset +cpu +memory +pids",
		filepath.Join(root, "mini-docker", "cgroup.subtree_control"): "+cpuset +cpu +memory +pids",
		filepath.Join(d, "memory.max"):                               "33554432",
		filepath.Join(d, "memory.swap.max"):                          "max",
		filepath.Join(d, "cpu.max"):                                  "50000 100000",
		filepath.Join(d, "cpu.weight"):                               "100",
		filepath.Join(d, "pids.max"):                                 "20",
		filepath.Join(d, "cpuset.cpus"):                              "0",
	}
	for p, v := range want {
		if got := read(t, p); got != v {
			t.Errorf("%s = %q, want %q", p, got, v)
		}
	}
	script := out.String()
	for _, line := range []string{
		"+ echo '+cpuset +cpu +memory +pids' > " + root + "/cgroup.subtree_control\n",
		"+ mkdir " + root + "/mini-docker\n",
		"+ mkdir " + d + "\n",
		"+ echo '50000 100000' > " + d + "/cpu.max\n",
		"+ echo 33554432 > " + d + "/memory.max\n",
	} {
		if !strings.Contains(script, line) {
			t.Errorf("--explain output lacks %q:\n%s", line, script)
		}
	}
	if p := g.Paths(); p[""] != d {
		t.Errorf("Paths() = %v", p)
	}

	// Docker's default swap (twice --memory) becomes memory.swap.max =
	// swap - memory when the kernel has the file.
	os.WriteFile(filepath.Join(d, "memory.swap.max"), []byte("max"), 0o644)
	if err := g.Set(Resources{Memory: 64 << 20}, nil); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(d, "memory.swap.max")); got != "67108864" {
		t.Errorf("memory.swap.max = %q, want 67108864", got)
	}

	// Enabling is idempotent: a second group writes nothing to the root.
	out.Reset()
	if _, _, err := Create(h, "mini-docker", "t2", Resources{PidsLimit: 5}, explain.New(&out)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "subtree_control") {
		t.Errorf("controllers enabled twice:\n%s", out.String())
	}
}

func TestV2NoInternalProcesses(t *testing.T) {
	h := fakeV2(t, "cpu memory pids")
	parent := filepath.Join(h.V2Root, "busy")
	os.Mkdir(parent, 0o755)
	os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte("4242\n"), 0o644)
	_, _, err := Create(h, "busy", "t1", Resources{PidsLimit: 5}, nil)
	if err == nil || !strings.Contains(err.Error(), "no-internal-processes") {
		t.Fatalf("err = %v, want the no-internal-processes rule", err)
	}
	if exists(filepath.Join(parent, "t1")) {
		t.Error("t1 left behind after a failed create")
	}
}

func TestV2MissingController(t *testing.T) {
	h := fakeV2(t, "cpu pids")
	_, _, err := Create(h, "mini-docker", "t1", Resources{Memory: 32 << 20}, nil)
	if err == nil || !strings.Contains(err.Error(), "memory controller is not available") || !strings.Contains(err.Error(), "offers: cpu pids") {
		t.Fatalf("err = %v", err)
	}
	if exists(filepath.Join(h.V2Root, "mini-docker")) {
		t.Error("parent made although create failed")
	}
}

func TestV2Stats(t *testing.T) {
	h := fakeV2(t, "cpu memory pids")
	g, _, err := Create(h, "", "t1", Resources{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := g.Dirs()[0]
	for f, v := range map[string]string{
		"cgroup.procs":   "10\n11\n",
		"cgroup.events":  "populated 1\nfrozen 1\n",
		"memory.current": "1048576\n", "memory.peak": "33554432\n", "memory.max": "33554432\n",
		"memory.events": "low 0\nhigh 0\nmax 83\noom 1\noom_kill 1\noom_group_kill 0\n",
		"cpu.stat":      "usage_usec 600000\nuser_usec 500000\nsystem_usec 100000\nnr_periods 30\nnr_throttled 28\nthrottled_usec 2400000\n",
		"cpu.max":       "20000 100000\n",
		"pids.current":  "20\n", "pids.max": "20\n", "pids.events": "max 3\n",
	} {
		os.WriteFile(filepath.Join(d, f), []byte(v), 0o644)
	}
	s, err := g.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Frozen || len(s.Procs) != 2 || s.Memory.OOMKills != 1 || s.Memory.LimitHits != 83 || s.Memory.Limit != 32<<20 ||
		s.CPU.UsageUsec != 600000 || s.CPU.Throttled != 28 || s.CPU.QuotaUsec != 20000 || s.Pids.Max != 20 || s.Pids.Refused != 3 {
		t.Errorf("stats = %+v %+v %+v %+v", s, *s.Memory, *s.CPU, *s.Pids)
	}
}

// TestV1ExplainScript checks the exact script --explain prints for a v1
// create, against directories laid out like v1 hierarchies.
func TestV1ExplainScript(t *testing.T) {
	root := t.TempDir()
	h := &Host{Mode: V1, Driver: V1, V1: map[string]string{}}
	for _, c := range []string{"cpuset", "cpu", "memory", "pids"} {
		os.Mkdir(filepath.Join(root, c), 0o755)
		h.V1[c] = filepath.Join(root, c)
	}
	os.WriteFile(filepath.Join(root, "cpuset", "cpuset.cpus"), []byte("0-1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "cpuset", "cpuset.mems"), []byte("0\n"), 0o644)
	var out bytes.Buffer
	_, _, err := Create(h, "md", "t1", Resources{Memory: 32 << 20, NanoCPUs: 2e8, PidsLimit: 20}, explain.New(&out))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(`+ mkdir R/cpuset/md
+ echo 0-1 > R/cpuset/md/cpuset.cpus
+ echo 0 > R/cpuset/md/cpuset.mems
+ mkdir R/cpuset/md/t1
+ echo 0-1 > R/cpuset/md/t1/cpuset.cpus
+ echo 0 > R/cpuset/md/t1/cpuset.mems
+ mkdir R/cpu/md
+ mkdir R/cpu/md/t1
+ mkdir R/memory/md
+ mkdir R/memory/md/t1
+ mkdir R/pids/md
+ mkdir R/pids/md/t1
+ echo 33554432 > R/memory/md/t1/memory.limit_in_bytes
+ echo 100000 > R/cpu/md/t1/cpu.cfs_period_us
+ echo 20000 > R/cpu/md/t1/cpu.cfs_quota_us
+ echo 20 > R/pids/md/t1/pids.max
`, "R", root)
	if out.String() != want {
		t.Errorf("--explain printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestV1MemoryOrder: memsw may never be below the memory limit, so growing
// writes memsw first and shrinking writes memory first.
func TestV1MemoryOrder(t *testing.T) {
	root := t.TempDir()
	h := &Host{Mode: V1, Driver: V1, V1: map[string]string{"memory": root}}
	g, _, err := Create(h, "", "t1", Resources{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := g.dir("memory")
	os.WriteFile(filepath.Join(d, "memory.limit_in_bytes"), []byte("33554432\n"), 0o644)
	os.WriteFile(filepath.Join(d, "memory.memsw.limit_in_bytes"), []byte("67108864\n"), 0o644)
	for _, tt := range []struct {
		r     Resources
		first string
	}{
		{Resources{Memory: 64 << 20}, "memory.memsw.limit_in_bytes"},
		{Resources{Memory: 16 << 20}, "memory.limit_in_bytes"},
	} {
		var out bytes.Buffer
		if err := g.Set(tt.r, explain.New(&out)); err != nil {
			t.Fatal(err)
		}
		first := strings.SplitN(out.String(), "\n", 2)[0]
		if !strings.HasSuffix(first, "/"+tt.first) {
			t.Errorf("set memory %d: first write %q, want %s", tt.r.Memory, first, tt.first)
		}
	}
}
