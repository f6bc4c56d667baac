package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
	"mini-docker/internal/mountinfo"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/vethctl/network"
)

// inspect --tree draws a running container as the kernel holds it, read
// live from /proc and netlink, not from mini-docker's records: the
// namespaces of its first process (their inode numbers, and which it
// shares with the caller), its cgroup and the limits written there, its
// root mount (the overlay's layers) and its network (eth0's addresses,
// the default route, the host end of the veth and its bridge). Lesson 09
// uses it to show each lesson's object on one container.

// treeNode is one line of the tree and the lines under it.
type treeNode struct {
	label string
	kids  []*treeNode
}

func (n *treeNode) add(format string, a ...any) *treeNode {
	k := &treeNode{label: fmt.Sprintf(format, a...)}
	n.kids = append(n.kids, k)
	return k
}

// write draws the tree with the box characters of tree(1).
func (n *treeNode) write(w io.Writer, prefix string) {
	for i, k := range n.kids {
		branch, next := "├── ", "│   "
		if i == len(n.kids)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, k.label)
		k.write(w, prefix+next)
	}
}

// inspectTrees prints the tree of each container refs names.
func inspectTrees(e *engine.Engine, refs []string) error {
	for _, ref := range refs {
		ct, err := e.Find(ref)
		if err != nil {
			return cli.Errorf(1, "%v", err)
		}
		if err := inspectTree(os.Stdout, ct); err != nil {
			return cli.Errorf(1, "%v", err)
		}
	}
	return nil
}

// inspectTree prints ct as a tree; ct must be running.
func inspectTree(w io.Writer, ct *container.Container) error {
	pid := ct.State.Pid
	if !ct.State.Running || pid <= 0 {
		return fmt.Errorf("container %s is not running: --tree reads a live process", strings.TrimPrefix(ct.Name, "/"))
	}
	id := ct.ID
	if len(id) > 12 {
		id = id[:12]
	}
	root := &treeNode{}
	top := root.add("%s (container %s, PID %d on this host)", strings.TrimPrefix(ct.Name, "/"), id, pid)
	treeNamespaces(top.add("namespaces (/proc/%d/ns)", pid), pid)
	if err := treeCgroup(top, pid); err != nil {
		return err
	}
	if err := treeRoot(top, pid); err != nil {
		return err
	}
	if err := treeNetwork(top.add("network"), pid); err != nil {
		return err
	}
	fmt.Fprintln(w, top.label)
	top.write(w, "")
	return nil
}

// treeNamespaces lists each namespace's inode, and whether the container
// shares it with the caller (its own shell: the host, from the
// container's point of view).
func treeNamespaces(n *treeNode, pid int) {
	for _, t := range []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"} {
		theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, t))
		if err != nil {
			n.add("%-6s unreadable: %v", t, err)
			continue
		}
		ours, _ := os.Readlink("/proc/self/ns/" + t)
		whose := "its own"
		if theirs == ours {
			whose = "shared with the host"
		}
		n.add("%-6s %-22s %s", t, theirs, whose)
	}
}

// treeCgroup shows the container's group (from /proc/PID/cgroup, placed
// with the host's cgroup mounts) and the limits in its files.
func treeCgroup(top *treeNode, pid int) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	pc, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return fmt.Errorf("read the container's cgroup: %w", err)
	}
	h, err := cgroup.Parse(mi, pc)
	if err != nil {
		return err
	}
	// dir is the container's group in the tree that holds controller c.
	dir := func(c string) string {
		if h.Mode == cgroup.V2 {
			return filepath.Join(h.V2Root, h.Self[""])
		}
		if hier := hierarchyOf(h, c); hier != "" {
			return filepath.Join(h.V1[c], h.Self[hier])
		}
		return ""
	}
	files := []struct{ controller, v2, v1 string }{
		{"memory", "memory.max", "memory.limit_in_bytes"},
		{"cpu", "cpu.max", "cpu.cfs_quota_us"},
		{"pids", "pids.max", "pids.max"},
	}
	if h.Mode == cgroup.V2 {
		n := top.add("cgroup %s (v2)", dir(""))
		for _, f := range files {
			n.add("%-14s %s", f.v2, treeFile(filepath.Join(dir(""), f.v2)))
		}
		return nil
	}
	n := top.add("cgroup %s (%s: the group is a folder in each controller's tree)", h.Self[hierarchyOf(h, "pids")], h.Mode)
	for _, f := range files {
		d := dir(f.controller)
		if d == "" {
			n.add("%-6s (no v1 tree)", f.controller)
			continue
		}
		n.add("%-22s %-10s (in %s)", f.v1, treeFile(filepath.Join(d, f.v1)), h.V1[f.controller])
	}
	return nil
}

// hierarchyOf is the key of /proc/PID/cgroup's line for controller c
// ("cpu,cpuacct" for cpu).
func hierarchyOf(h *cgroup.Host, c string) string {
	for hier := range h.Self {
		for _, s := range strings.Split(hier, ",") {
			if s == c {
				return hier
			}
		}
	}
	return ""
}

func treeFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}

// treeRoot shows the container's root mount, from its own mountinfo:
// for an overlay, each lower layer (top first), the upper and work dirs.
func treeRoot(top *treeNode, pid int) error {
	ms, err := mountinfo.Read(strconv.Itoa(pid))
	if err != nil {
		return fmt.Errorf("read the container's mounts: %w", err)
	}
	for _, m := range ms {
		if m.Point != "/" {
			continue
		}
		n := top.add("root: %s mount", m.FSType)
		var lowers []string
		for _, opt := range strings.Split(m.Super, ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "lowerdir", "lowerdir+":
				lowers = append(lowers, strings.Split(v, ":")...)
			case "upperdir":
				n.add("upper  %s  (the container's changes)", v)
			case "workdir":
				n.add("work   %s", v)
			}
		}
		images := 0
		for _, l := range lowers {
			if filepath.Base(l) == "init" {
				n.add("init   %s  (Docker's init layer)", l)
				continue
			}
			images++
			n.add("lower %d %s", images, l)
		}
		if images > 0 {
			n.label += fmt.Sprintf(" (%d image layer(s) below, top first)", images)
		}
		return nil
	}
	top.add("root: (no mount at / in /proc/%d/mountinfo)", pid)
	return nil
}

// treeNetwork shows the links of the container's network namespace with
// their addresses, the default route, and for a veth, the host end (the
// peer's index, IFLA_LINK, in the caller's namespace) and its bridge.
func treeNetwork(n *treeNode, pid int) error {
	snap, err := network.Show(network.OfPID(pid))
	if err != nil {
		return err
	}
	for _, l := range snap.Links {
		addrs := strings.Join(l.Addrs, " ")
		if addrs == "" {
			addrs = "-"
		}
		k := n.add("%-5s %-6s %s", l.Name, l.Type, addrs)
		if p := hostEnd(l.Peer); p != "" {
			k.add("%s", p)
		}
	}
	for _, r := range snap.Routes {
		if strings.HasPrefix(r, "default") {
			n.add("route %s", r)
		}
	}
	return nil
}

// hostEnd names a veth's host end from its peer's index (in this, the
// host's namespace, where the engine made the pair) and its bridge; ""
// for no peer.
func hostEnd(peer int) string {
	if peer == 0 {
		return ""
	}
	l, err := netlink.LinkByIndex(peer)
	if err != nil {
		return ""
	}
	line := "host end " + l.Attrs().Name + " (index " + strconv.Itoa(peer) + ")"
	if m := l.Attrs().MasterIndex; m != 0 {
		if br, err := netlink.LinkByIndex(m); err == nil {
			line += " on bridge " + br.Attrs().Name
		}
	}
	return line
}
