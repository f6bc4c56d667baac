package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestInspectTree: the tree of a running container shows what the kernel
// holds, each value checked here against the kernel's own files (the
// namespace links, the cgroup files the limits went to), the store's
// overlay folders and the container's address.
func TestInspectTree(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("run", "-d", "--name", "tree", "--memory", "64m", "--pids-limit", "50", ref, "sleep", "300")
	out := h.must("inspect", "--tree", "tree")
	t.Logf("inspect --tree tree:\n%s", out)
	field := func(f string) string {
		return strings.TrimSpace(h.must("inspect", "-f", f, "tree"))
	}
	pid := field("{{.State.Pid}}")
	lines := strings.Split(out, "\n")
	has := func(what string, parts ...string) {
		t.Helper()
		for _, l := range lines {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(l, p)
			}
			if all {
				return
			}
		}
		t.Errorf("%s: no line with %q in the tree", what, parts)
	}
	has("the container", "tree (container ", "PID "+pid+" on this host)")
	for _, ns := range []string{"ipc", "mnt", "net", "pid", "uts", "user"} {
		link, err := os.Readlink(fmt.Sprintf("/proc/%s/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		want := "its own"
		if ns == "user" {
			want = "shared with the host"
		}
		has(ns+" namespace", "── "+ns+" ", link, want)
	}
	cg, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(string(cg), "0::") { // v2
		has("memory limit", "memory.max", "67108864")
		has("pids limit", "pids.max", "50")
	} else {
		has("memory limit", "memory.limit_in_bytes", "67108864")
		has("pids limit", "pids.max", "50")
	}
	has("overlay root", "root: overlay mount")
	has("upper dir", "upper  "+field("{{.GraphDriver.Data.UpperDir}}"))
	has("lower layer", "lower 1 ")
	has("address", "eth0", "veth", field("{{.NetworkSettings.IPAddress}}")+"/16")
	has("host end", "host end veth", "on bridge mini-docker0")
	has("default route", "route default via "+field("{{.NetworkSettings.Gateway}}"))

	h.must("stop", "-t", "0", "tree")
	if _, errOut, code := h.md("inspect", "--tree", "tree"); code != 1 || !strings.Contains(errOut, "is not running") {
		t.Errorf("--tree of a stopped container: exit %d %q", code, errOut)
	}
	if _, errOut, code := h.md("inspect", "--tree", "nope"); code != 1 || !strings.Contains(errOut, "No such container") {
		t.Errorf("--tree of no container: exit %d %q", code, errOut)
	}
	h.must("rm", "-f", "tree")
	h.assertNoLeaks()
}
