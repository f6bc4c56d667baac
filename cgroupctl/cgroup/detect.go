package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"mini-docker/internal/mountinfo"
)

// Mode is how the host mounts its cgroups.
type Mode string

// The three ways a Linux host can mount cgroups.
const (
	// V2 is the unified hierarchy alone: one cgroup2 tree, every controller in it.
	V2 Mode = "v2"
	// V1 is one cgroup (v1) hierarchy per controller, or per group of controllers.
	V1 Mode = "v1"
	// Hybrid is v1 hierarchies holding the controllers, plus a cgroup2 tree
	// (usually /sys/fs/cgroup/unified) with few or no controllers in it.
	Hybrid Mode = "hybrid"
)

// Controllers is what cgroupctl uses, in the order it sets them up. On v1
// each lives in its own hierarchy (or shares one, like "cpu,cpuacct");
// on v2 cpuacct and freezer are not controllers: CPU usage is in every
// group's cpu.stat and freezing is the core file cgroup.freeze.
var Controllers = []string{"cpuset", "cpu", "cpuacct", "memory", "pids", "freezer"}

// v2Controllers are the controllers cgroupctl enables in a v2 tree.
var v2Controllers = []string{"cpuset", "cpu", "memory", "pids"}

// Host is what the kernel shows about the host's cgroups, read from
// /proc/self/mountinfo and /proc/self/cgroup, as runc reads them.
type Host struct {
	Mode Mode
	// V2Root is where the cgroup2 tree is mounted ("" when it is not).
	V2Root string
	// V2Available lists the controllers the v2 root offers to its children
	// (its cgroup.controllers): empty on a hybrid host whose controllers
	// are all bound to v1 hierarchies.
	V2Available []string
	// V1 maps each v1 controller to the mount point of its hierarchy.
	V1 map[string]string
	// Hierarchies lists every mounted v1 hierarchy once, controllers or
	// not (name=systemd holds none), in mountinfo's order: runc makes and
	// joins the group in each of them, and binds each into the container.
	Hierarchies []Hierarchy
	// Self maps each hierarchy of /proc/self/cgroup ("memory", "cpu,cpuacct",
	// "" for v2) to the calling process's cgroup in it.
	Self map[string]string

	// Driver is the tree groups are made in: V2 on a v2 host, V1 on v1 and
	// hybrid hosts (like Docker and runc, which ignore the nearly empty v2
	// tree), or V2 when asked with UseV2.
	Driver Mode
}

// Hierarchy is one mounted cgroup v1 hierarchy.
type Hierarchy struct {
	Point string // mount point, e.g. /sys/fs/cgroup/memory
	// Root is the group of the hierarchy shown at Point (mountinfo's 4th
	// field): "/" for a whole hierarchy, a group's path for a bind of it.
	Root string
	// Subsystems are the controllers bound to it and its name=NAME, as
	// /proc/self/cgroup names the hierarchy ("cpu,cpuacct", "name=systemd").
	Subsystems []string
}

// Detect reads the calling process's view of the cgroup mounts.
func Detect() (*Host, error) {
	mi, err := readFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("detect cgroups: %w", err)
	}
	self, _ := readFile("/proc/self/cgroup") // only shown by info
	h, err := Parse(mi, self)
	if err != nil {
		return nil, err
	}
	if h.V2Root != "" {
		h.V2Available = readControllers(h.V2Root)
	}
	return h, nil
}

var detected struct {
	sync.Mutex
	h *Host
}

// Detected is Detect done once per process, for a program that makes,
// checks and deletes groups in one run (mini-docker's engine: the mode
// check, create, the OOM check, delete): the mounts are read the first
// time, and a failed detection is tried again the next.
func Detected() (*Host, error) {
	detected.Lock()
	defer detected.Unlock()
	if detected.h == nil {
		h, err := Detect()
		if err != nil {
			return nil, err
		}
		detected.h = h
	}
	return detected.h, nil
}

// Parse works out the mode from the text of /proc/self/mountinfo and
// /proc/self/cgroup. A line of mountinfo reads
//
//	35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
//
// fields: id, parent, dev, root, mount point, options, "-", fs type,
// source, super options. For a v1 hierarchy the super options name the
// controllers bound to it.
func Parse(mountInfo, selfCgroup []byte) (*Host, error) {
	h := &Host{V1: map[string]string{}, Self: map[string]string{}}
	for _, m := range mountinfo.Parse(string(mountInfo)) {
		switch m.FSType {
		case "cgroup2":
			if h.V2Root == "" {
				h.V2Root = m.Point
			}
		case "cgroup":
			var subs []string
			for _, opt := range strings.Split(m.Super, ",") {
				if isController(opt) {
					if _, seen := h.V1[opt]; !seen {
						h.V1[opt] = m.Point
					}
				}
				if isController(opt) || strings.HasPrefix(opt, "name=") {
					subs = append(subs, opt)
				}
			}
			if len(subs) > 0 && !h.hasHierarchy(subs) {
				h.Hierarchies = append(h.Hierarchies, Hierarchy{Point: m.Point, Root: m.Root, Subsystems: subs})
			}
		}
	}
	switch {
	case h.V2Root != "" && len(h.V1) == 0:
		h.Mode, h.Driver = V2, V2
	case h.V2Root != "":
		h.Mode, h.Driver = Hybrid, V1
	case len(h.V1) > 0:
		h.Mode, h.Driver = V1, V1
	default:
		return nil, fmt.Errorf("detect cgroups: no cgroup or cgroup2 file system is mounted (see /proc/self/mountinfo)")
	}
	// /proc/self/cgroup: "4:memory:/process_api/3d92", "0::/" for v2.
	for _, line := range strings.Split(string(selfCgroup), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			h.Self[parts[1]] = parts[2]
		}
	}
	return h, nil
}

// hasHierarchy reports whether a hierarchy with these subsystems is
// listed already (the same hierarchy mounted twice counts once).
func (h *Host) hasHierarchy(subs []string) bool {
	for _, x := range h.Hierarchies {
		if sameSet(x.Subsystems, subs) {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// SelfPath returns the calling process's group in hierarchy x, from
// /proc/self/cgroup (whose lines name hierarchies by their subsystems),
// or "" when it is not listed.
func (h *Host) SelfPath(x Hierarchy) string {
	for k, v := range h.Self {
		if k != "" && sameSet(strings.Split(k, ","), x.Subsystems) {
			return v
		}
	}
	return ""
}

// isController tells v1 controller names from mount options like "rw" or
// "name=systemd" (a named hierarchy with no controller).
func isController(opt string) bool {
	switch opt {
	case "cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices",
		"blkio", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc":
		return true
	}
	return false
}

func readControllers(dir string) []string {
	b, err := readFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// UseV2 returns a copy of h that makes its groups in the cgroup2 tree at
// root (h's own cgroup2 mount when root is ""). On a hybrid host this is
// the nearly empty unified tree: groups, cgroup.procs, cgroup.freeze and
// cgroup.kill work there, limits do not (no controller is offered).
func (h *Host) UseV2(root string) (*Host, error) {
	c := *h
	if root == "" {
		root = h.V2Root
	}
	if root == "" {
		return nil, fmt.Errorf("use cgroup v2: no cgroup2 file system is mounted (host mode %s)", h.Mode)
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
		return nil, fmt.Errorf("use cgroup v2 tree %s: %w", root, err)
	}
	c.V2Root, c.Driver = root, V2
	c.V2Available = readControllers(root)
	return &c, nil
}

// UseV1 returns a copy of h that makes its groups in the v1 hierarchies.
func (h *Host) UseV1() (*Host, error) {
	if len(h.V1) == 0 {
		return nil, fmt.Errorf("use cgroup v1: no v1 hierarchy is mounted (host mode %s)", h.Mode)
	}
	c := *h
	c.Driver = V1
	return &c, nil
}

// Has reports whether the driver's tree offers controller c.
func (h *Host) Has(c string) bool {
	if h.Driver == V2 {
		for _, a := range h.V2Available {
			if a == c {
				return true
			}
		}
		return false
	}
	_, ok := h.V1[c]
	return ok
}

// hierarchies returns the v1 mount points a group lives in, each once
// (controllers co-mounted like "cpu,cpuacct" share one): those of the
// controllers cgroupctl limits first, then every other mounted hierarchy
// (devices, blkio, name=systemd, ...). runc makes and joins the group in
// all of them, so /proc/PID/cgroup shows the container's group in every
// line, not the host's root for the hierarchies nobody limits.
func (h *Host) hierarchies() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, c := range Controllers {
		add(h.V1[c])
	}
	for _, x := range h.Hierarchies {
		add(x.Point)
	}
	return out
}
