package main

// Run flags of issue 18, item 6, that end in a primitive: the cgroup's
// soft limit and OOM switch (cgroupctl), /dev/shm's size (chroot).

import (
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/mini-docker/spec"
)

// TestResourceRunFlags: --memory-reservation is the group's soft limit
// (v1 memory.soft_limit_in_bytes, v2 memory.low), --oom-kill-disable
// v1's memory.oom_control (on v2 dropped with Docker's warning), and
// --shm-size the size of the container's /dev/shm, both in the default
// run (mini-docker-inside) and in the chain of tools (--tool-chain).
// Bad values are refused in Docker's words with exit 125 and nothing
// made.
func TestResourceRunFlags(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	v2 := spec.CgroupV2()
	for _, mode := range [][]string{nil, {"--tool-chain"}} {
		name := "res" + strings.Join(mode, "")
		args := append([]string{"run", "-d", "--name", name, "--network", "none", "-m", "64m",
			"--memory-reservation", "20m", "--oom-kill-disable", "--shm-size", "1m"}, mode...)
		_, errOut, code := h.md(append(args, ref, "sleep", "300")...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		if v2 != strings.Contains(errOut, "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.") {
			t.Errorf("%v on cgroup v2 %v: stderr %q", mode, v2, errOut)
		}
		pid := strings.TrimSpace(h.must("inspect", "--format", "{{.State.Pid}}", name))
		dirs, _ := cgroupDirs(t, pid)
		if v2 {
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.low")); got != "20971520" {
				t.Errorf("%v: memory.low = %q, want 20971520", mode, got)
			}
		} else {
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.soft_limit_in_bytes")); got != "20971520" {
				t.Errorf("%v: memory.soft_limit_in_bytes = %q, want 20971520", mode, got)
			}
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.oom_control")); !strings.HasPrefix(got, "oom_kill_disable 1\n") {
				t.Errorf("%v: memory.oom_control = %q, want oom_kill_disable 1", mode, got)
			}
		}
		// busybox df: the tmpfs's size in 1K blocks.
		df := h.must("exec", name, "df", "-k", "/dev/shm")
		if f := strings.Fields(df); len(f) < 9 || f[7] != "shm" || f[8] != "1024" {
			t.Errorf("%v: df /dev/shm = %q, want shm of 1024 blocks", mode, df)
		}
		h.must("rm", "-f", name)
	}
	before := h.snap()
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--memory-reservation", "1m"}, "Minimum memory reservation allowed is 6MB"},
		{[]string{"--memory-reservation", "20m", "-m", "10m"}, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{[]string{"--memory-reservation", "x"}, `invalid argument "x" for "--memory-reservation" flag: invalid size: 'x'`},
		{[]string{"--shm-size", "x"}, `invalid argument "x" for "--shm-size" flag: invalid size: 'x'`},
	} {
		_, errOut, code := h.md(append(append([]string{"run", "--rm", "--network", "none"}, c.args...), ref, "true")...)
		if code != 125 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q, want 125 and %q", c.args, code, errOut, c.msg)
		}
	}
	if l := h.leftSince(before); len(l) > 0 {
		t.Errorf("bad input left behind %v", l)
	}
	h.assertNoLeaks()
}
