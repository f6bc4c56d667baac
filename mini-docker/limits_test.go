package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// cgroupDirs maps each controller of process pid (memory, cpu, cpuacct,
// pids) to the folder of its cgroup, read from /proc/PID/cgroup:
// on a pure v2 host one folder for all of them, on v1 and hybrid hosts
// the folder in each controller's hierarchy. v2 says which it was.
// (mini-docker run has no --cpuset-cpus yet: cgroupctl's TestCpuset
// checks that limit.)
func cgroupDirs(t *testing.T, pid string) (dirs map[string]string, v2 bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat("/sys/fs/cgroup/cgroup.controllers")
	v2 = err == nil
	dirs = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range []string{"memory", "cpu", "cpuacct", "pids"} {
			switch {
			case v2 && f[0] == "0":
				dirs[c] = filepath.Join("/sys/fs/cgroup", f[2])
			case !v2 && strings.Contains(","+f[1]+",", ","+c+","):
				dirs[c] = filepath.Join("/sys/fs/cgroup", c, f[2])
			}
		}
	}
	return dirs, v2
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
	}
	return strings.TrimSpace(string(b))
}

// statField returns the number after key in a flat-keyed file (cpu.stat).
func statField(t *testing.T, path, key string) int64 {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, path), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Errorf("%s has no %s", path, key)
	return 0
}

// TestLimitsReachTheKernel: run's --cpus, --pids-limit and -m are the
// kernel's limits of the container's cgroup on every cgroup mode (v2:
// cpu.max, pids.max, memory.max; v1 and
// hybrid: each controller's files); a spinner under --cpus 0.5 stays
// under half a CPU by the group's own accounting, throttled; the
// 21st task under --pids-limit 20 is refused; on v2 the container has a
// private cgroup namespace (it sees 0::/), as Docker's default there; and
// nothing is left in /sys/fs/cgroup after rm.
//
// The image is busybox: hog is a static binary mounted in, and under
// emulation (the VM matrix) pushing and pulling the Debian image took
// most of the test's 963 s.
func TestLimitsReachTheKernel(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	hog := testenv.Bin(t, "hog")
	h.must("run", "-d", "--name", "lim", "--network", "none", "--cpus", "0.5", "--pids-limit", "20",
		"-m", "64m", "-v", hog+":/hog:ro", ref, "/hog", "cpu", "600")
	pid := strings.TrimSpace(h.must("inspect", "--format", "{{.State.Pid}}", "lim"))
	dirs, v2 := cgroupDirs(t, pid)
	want := map[string]string{}
	if v2 {
		want[filepath.Join(dirs["cpu"], "cpu.max")] = "50000 100000"
		want[filepath.Join(dirs["pids"], "pids.max")] = "20"
		want[filepath.Join(dirs["memory"], "memory.max")] = "67108864"
	} else {
		want[filepath.Join(dirs["cpu"], "cpu.cfs_quota_us")] = "50000"
		want[filepath.Join(dirs["cpu"], "cpu.cfs_period_us")] = "100000"
		want[filepath.Join(dirs["pids"], "pids.max")] = "20"
		want[filepath.Join(dirs["memory"], "memory.limit_in_bytes")] = "67108864"
	}
	for f, w := range want {
		if got := readTrim(t, f); got != w {
			t.Errorf("%s = %q, want %q", f, got, w)
		}
	}
	// The namespace: Docker's default on v2 is a private one.
	cg := h.must("exec", "lim", "cat", "/proc/self/cgroup")
	if v2 && cg != "0::/\n" {
		t.Errorf("on a cgroup v2 host the container sees /proc/self/cgroup = %q, want 0::/ (a private cgroup namespace)", cg)
	}
	// The spinner: throttled, and near half a CPU. Only the upper bound
	// is checked (a loaded host gives it less, never more); the share is
	// logged.
	usage := func() int64 {
		if v2 {
			return statField(t, filepath.Join(dirs["cpu"], "cpu.stat"), "usage_usec")
		}
		n, _ := strconv.ParseInt(readTrim(t, filepath.Join(dirs["cpuacct"], "cpuacct.usage")), 10, 64)
		return n / 1000
	}
	u0, t0 := usage(), time.Now()
	time.Sleep(2 * time.Second)
	u1, t1 := usage(), time.Now()
	share := float64(u1-u0) / float64(t1.Sub(t0).Microseconds())
	t.Logf("--cpus 0.5: the spinner used %.1f%% of a CPU by the group's accounting", share*100)
	if share > 0.65 {
		t.Errorf("--cpus 0.5: the spinner used %.1f%% of a CPU, want at most 50%% (+30%%)", share*100)
	}
	// A spinner that got its half CPU was throttled; on a host too busy
	// to give it that, it never reached its quota.
	if n := statField(t, filepath.Join(dirs["cpu"], "cpu.stat"), "nr_throttled"); n == 0 && share >= 0.45 {
		t.Errorf("--cpus 0.5: the spinner used %.1f%% of a CPU and cpu.stat counts no throttled period", share*100)
	}
	h.must("rm", "-f", "lim")
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("rm -f left the cgroup %s", d)
		}
	}
	// The 21st task is refused (hog and its threads count).
	out, errOut, code := h.md("run", "--rm", "--network", "none", "--pids-limit", "20", "-v", hog+":/hog:ro", ref, "/hog", "fork", "100")
	if code != 1 || !strings.Contains(out, "fork failed") || !strings.Contains(out, "= 20\n") {
		t.Errorf("--pids-limit 20, hog fork 100: exit %d, want 1 after a refused fork at 20 tasks\n%s%s", code, out, errOut)
	}
	h.assertNoLeaks()
}
