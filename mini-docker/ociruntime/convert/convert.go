// Package convert reads an OCI bundle's config.json into the
// primitives' terms: each field becomes the option of the package that
// lessons 01-07 taught for it (cgroupctl's device rules, chroot's jail,
// capctl's sets, rlimits; the limits are cgroup.ResourcesOf). mini-docker
// runtime uses it.
package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/cgroupctl/cgroup/devicefilter"
	"mini-docker/chroot/jail"
)

// V1Write is one limit cgroupctl has no option for, as the file of a v1
// controller to write.
type V1Write struct{ Controller, File, Value string }

// V1Writes are the limits of linux.resources beyond cgroupctl's, for a
// v1 (or hybrid) host: the CFS period as given, swappiness, the TCP
// buffer limit, the cpuset's memory nodes, the real-time budget. (memory.kernel is deprecated by
// the spec and ignored, as runc 1.1 does: recent kernels refuse it.)
func V1Writes(r *specs.LinuxResources) []V1Write {
	var w []V1Write
	if r == nil {
		return nil
	}
	if c := r.CPU; c != nil {
		if c.Period != nil && *c.Period > 0 {
			w = append(w, V1Write{"cpu", "cpu.cfs_period_us", fmt.Sprint(*c.Period)})
		}
		if c.Quota != nil && *c.Quota != 0 {
			w = append(w, V1Write{"cpu", "cpu.cfs_quota_us", fmt.Sprint(*c.Quota)})
		}
		if c.RealtimePeriod != nil && *c.RealtimePeriod > 0 {
			w = append(w, V1Write{"cpu", "cpu.rt_period_us", fmt.Sprint(*c.RealtimePeriod)})
		}
		if c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0 {
			w = append(w, V1Write{"cpu", "cpu.rt_runtime_us", fmt.Sprint(*c.RealtimeRuntime)})
		}
		if c.Mems != "" {
			w = append(w, V1Write{"cpuset", "cpuset.mems", c.Mems})
		}
	}
	if m := r.Memory; m != nil {
		if m.KernelTCP != nil && *m.KernelTCP != 0 {
			w = append(w, V1Write{"memory", "memory.kmem.tcp.limit_in_bytes", fmt.Sprint(*m.KernelTCP)})
		}
		if m.Swappiness != nil && *m.Swappiness <= 100 {
			w = append(w, V1Write{"memory", "memory.swappiness", fmt.Sprint(*m.Swappiness)})
		}
	}
	return w
}

// DeviceRules are the spec's device rules, then what every container
// needs whatever the spec says, as runc adds them (its AllowedDevices:
// mknod of any node, the default devices, the terminals; Docker's own
// list is the same), then the spec's own devices.
func DeviceRules(s *specs.Spec) []devicefilter.Rule {
	var rules []devicefilter.Rule
	if s.Linux.Resources != nil {
		for _, d := range s.Linux.Resources.Devices {
			rules = append(rules, devicefilter.Rule{Allow: d.Allow, Rule: devicefilter.OCIRule(d)})
		}
	}
	for _, r := range devicefilter.DockerRules {
		rules = append(rules, devicefilter.Rule{Allow: true, Rule: r})
	}
	for _, d := range s.Linux.Devices {
		// Only character and block devices have rules ("u" is an
		// unbuffered character device); a fifo needs none.
		if typ := map[string]string{"c": "c", "u": "c", "b": "b"}[d.Type]; typ != "" {
			rules = append(rules, devicefilter.Rule{Allow: true, Rule: fmt.Sprintf("%s %d:%d rwm", typ, d.Major, d.Minor)})
		}
	}
	return rules
}

// JailOptions are the mounts, masked and read-only paths, devices and
// root of the spec, as chroot's jail takes them.
func JailOptions(s *specs.Spec, rootfs, bundle string) jail.Options {
	o := jail.Options{Root: rootfs, ReadOnly: s.Root.Readonly, Workdir: s.Process.Cwd,
		Mask: s.Linux.MaskedPaths, ReadonlyPaths: s.Linux.ReadonlyPaths}
	for _, m := range s.Mounts {
		src := m.Source
		bind := m.Type == "bind" || strings.Contains(","+strings.Join(m.Options, ",")+",", "bind,")
		if bind && src != "" && !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src) // relative to the bundle, as runc reads it
		}
		o.Mounts = append(o.Mounts, jail.ParseMount(m.Type, src, m.Destination, m.Options))
	}
	for _, d := range s.Linux.Devices {
		typ := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}[d.Type]
		mode := os.FileMode(0o666)
		if d.FileMode != nil {
			mode = *d.FileMode
		}
		dev := jail.Device{Path: d.Path, Type: typ, Major: uint32(d.Major), Minor: uint32(d.Minor), Mode: mode}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		o.Devices = append(o.Devices, dev)
	}
	return o
}

// CapsSpec is process.capabilities and process.user as capctl applies
// them: the five sets as given (capabilities this kernel does not know
// are left out, as runc does), the numeric user and its groups.
func CapsSpec(p *specs.Process) (caps.Spec, error) {
	set := func(names []string) (caps.Set, error) {
		var known []string
		for _, n := range names {
			if c, ok := caps.Lookup(n); ok && c <= caps.Last() {
				known = append(known, n)
			} else if !ok {
				return 0, fmt.Errorf("process.capabilities: unknown capability %q", n)
			}
		}
		return caps.ParseNames(known)
	}
	var s caps.Spec
	if c := p.Capabilities; c != nil {
		for _, x := range []struct {
			dst   *caps.Set
			names []string
		}{{&s.Bounding, c.Bounding}, {&s.Permitted, c.Permitted}, {&s.Effective, c.Effective},
			{&s.Inheritable, c.Inheritable}, {&s.Ambient, c.Ambient}} {
			v, err := set(x.names)
			if err != nil {
				return s, err
			}
			*x.dst = v
		}
	}
	// The kernel raises an ambient capability only if it is permitted and
	// inheritable; runc skips the others (runc spec's config lists three
	// ambient capabilities and no inheritable ones).
	s.Ambient &= s.Permitted & s.Inheritable
	groups := []int{}
	for _, g := range p.User.AdditionalGids {
		groups = append(groups, int(g))
	}
	s.User = &caps.User{UID: int(p.User.UID), GID: int(p.User.GID), Groups: groups}
	s.NoNewPrivs = p.NoNewPrivileges
	return s, nil
}

// SelfBase maps each tree h makes groups in (by mount point) to
// the calling process's group in it, from /proc/self/cgroup: where runc
// makes a container whose linux.cgroupsPath is relative (cgroup.Group.Base). On
// a v2 host it is that group's parent, as runc takes it: the process's
// own group holds a process, so cgroup v2's no-internal-processes rule
// would keep it from handing controllers down to a child. A group the
// mount does not show (outside a cgroup namespace's root: "/../x", or
// outside the bound subtree) counts as the tree's root.
func SelfBase(h *cgroup.Host) map[string]string {
	m := map[string]string{}
	if h.Driver == cgroup.V2 {
		own := inMount(h.Self[""], "/")
		if h.Mode == cgroup.V2 {
			own = filepath.Dir(own)
		}
		m[h.V2Root] = own
		return m
	}
	for _, x := range h.Hierarchies {
		m[x.Point] = inMount(h.SelfPath(x), x.Root)
	}
	if h.Mode == cgroup.Hybrid && h.V2Root != "" {
		m[h.V2Root] = inMount(h.Self[""], "/")
	}
	return m
}

// inMount is group p as a path below a mount of the group root ("/" for
// a whole hierarchy), or "/" when the mount does not show it.
func inMount(p, root string) string {
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "/"
	}
	p = filepath.Clean("/" + p)
	if p != root && !strings.HasPrefix(p, strings.TrimSuffix(root, "/")+"/") {
		return "/"
	}
	return filepath.Clean("/" + strings.TrimPrefix(p, strings.TrimSuffix(root, "/")))
}
