package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"mini-docker/cgroupctl/cgroup"
)

// MachineFacts records what the numbers depend on.
func MachineFacts(e *Env) map[string]string {
	m := map[string]string{}
	m["host"], _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	m["cgroup mode"] = cgroupMode()
	m["cpus"] = fmt.Sprint(runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu model"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m["memory"] = fmt.Sprintf("%.1f GiB", float64(kb)/1024/1024)
	}
	first := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return "not available"
		}
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	m["mini-docker"] = first(e.MD(), "--version") + " (tools from " + e.SourceBin + ")"
	if src := os.Getenv("BENCH_SOURCE"); src != "" {
		m["mini-docker"] += ", built from " + src
	}
	m["go"] = first("go", "version")
	m["runc"] = first("runc", "--version")
	m["hyperfine"] = first("hyperfine", "--version")
	m["skopeo"] = first("skopeo", "--version")
	m["umoci"] = first("umoci", "--version")
	m["curl"] = first("curl", "--version")
	if e.Docker {
		m["docker"] = first("docker", "version", "--format", "client {{.Client.Version}}, engine {{.Server.Version}}")
		m["containerd"] = first("containerd", "--version")
	} else {
		m["docker"] = "no engine: " + e.NoDocker
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["load at start"] = strings.Join(strings.Fields(string(b))[:3], " ") + " (1, 5, 15 min; other work on the machine adds noise)"
	}
	if e.Tmp != "" {
		m["state root fs"] = stateRootFS(first("findmnt", "-no", "FSTYPE,SOURCE,OPTIONS", "-T", e.Tmp))
	}
	return m
}

// stateRootFS is findmnt's type, source and options of the state root's
// file system, and for ext4 whether it keeps a journal: without one, each
// new inode skips those freed in the last minutes, and with discard each
// freed block is trimmed at once, which every start's files pay.
func stateRootFS(findmnt string) string {
	f := strings.Fields(findmnt)
	if len(f) < 3 {
		return findmnt
	}
	out := f[0] + " on " + f[1]
	if slices.Contains(strings.Split(f[2], ","), "discard") {
		out += ", discard"
	}
	if b, err := os.ReadFile(filepath.Join("/sys/fs/ext4", filepath.Base(f[1]), "journal_task")); err == nil && f[0] == "ext4" {
		out += map[bool]string{true: ", no journal", false: ", journal"}[strings.TrimSpace(string(b)) == "<none>"]
	}
	return out
}

// cgroupMode is cgroupctl's reading of the host's cgroups.
func cgroupMode() string {
	h, err := cgroup.Detect()
	switch {
	case err != nil:
		return "unknown: " + err.Error()
	case h.Mode == cgroup.Hybrid:
		return "hybrid (v1 controllers, v2 at " + h.V2Root + ")"
	case h.Mode == cgroup.V2:
		return "v2 (unified)"
	}
	return string(h.Mode)
}
