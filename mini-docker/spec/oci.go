package spec

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/capctl/caps"
	"mini-docker/mini-docker/container"
)

// The container's configuration in the field's two layers, as Docker
// and runc hold it: docker run's flags parse once into Docker's Config
// and HostConfig (flags.go; engine.Create records them in the
// container's state), and those convert once, here, into the OCI runtime
// spec, what the kernel must be told: the root, the process, the mounts,
// the namespaces and the cgroup's resources. `mini-docker inspect --oci
// NAME` prints it, as the config.json runc would read. The plan
// (engine/plan.go, package plan) is made from it.
//
// What runc's config.json cannot say travels as annotations: the
// seccomp profile's name (mini-docker loads it inside, where seccompctl
// does), and docker run's flags behind the capability set (capctl is
// given them, not the set).

// Annotations of mini-docker's OCI spec.
const (
	AnnotationSeccomp = "org.mini-docker.seccomp" // default, unconfined or a profile file
	AnnotationLower   = "org.mini-docker.overlay.lower"
)

// OCIPaths are the host-side places the spec names.
type OCIPaths struct {
	Merged string   // the overlay mount, the root
	Etc    EtcFiles // the generated /etc files
	Netns  string   // /run/netns/NAME to join, "" for the host's network
	Init   string   // --init's program on the host
	Home   string   // HOME when nothing set it
	// CgroupNS: the container gets a cgroup namespace (cgroup v2 hosts).
	CgroupNS    bool
	CgroupsPath string // PARENT/ID
}

// OCISpec converts c's Config and HostConfig into the OCI runtime spec,
// the one place where that happens.
func OCISpec(c *container.Container, at OCIPaths) (*specs.Spec, error) {
	hc := &c.HostConfig
	sec, err := ParseSecurityOpt(hc.SecurityOpt, hc.Privileged)
	if err != nil {
		return nil, err
	}
	if hc.Privileged {
		sec.Seccomp = "unconfined"
	}
	caps, err := EffectiveCaps(CapsOf(hc))
	if err != nil {
		return nil, err
	}
	capNames := make([]string, len(caps))
	for i, n := range caps {
		capNames[i] = "CAP_" + n
	}
	cwd := c.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	args := append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	if hc.Init != nil && *hc.Init {
		args = append([]string{InitPath, "--"}, args...)
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: c.Config.Hostname,
		Root:     &specs.Root{Path: at.Merged, Readonly: hc.ReadonlyRootfs},
		Process: &specs.Process{
			Terminal: c.Config.Tty,
			// runc wants numeric IDs; capctl resolves a name in the
			// container's own /etc/passwd after the pivot, as Docker does
			// before it writes the spec.
			User: specs.User{Username: c.Config.User},
			Args: args,
			Env:  ContainerEnv(c.Config.Hostname, c.Config.Tty, c.Config.Env, nil, at.Home),
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{Bounding: capNames, Effective: capNames,
				Permitted: capNames},
			NoNewPrivileges: sec.NoNewPrivs,
			Rlimits:         ociRlimits(hc),
		},
		Annotations: map[string]string{AnnotationSeccomp: sec.Seccomp,
			AnnotationLower: c.GraphDriver.Data["LowerDir"]},
		Linux: &specs.Linux{
			CgroupsPath: at.CgroupsPath,
			Resources:   ociResources(hc),
			Namespaces:  ociNamespaces(at, c.Runtime.Userns),
		},
	}
	if c.Runtime.Userns {
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
		s.Linux.GIDMappings = s.Linux.UIDMappings
	}
	s.Mounts = ociMounts(c, at)
	devs, rules, err := ociDevices(hc.Devices)
	if err != nil {
		return nil, err
	}
	s.Linux.Devices = devs
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rules...)
	return s, nil
}

// ociMounts are the mounts over Docker's standard ones (which chroot
// --docker makes): the /etc files (read-only with --read-only, as
// Docker does), the volumes, binds and tmpfs mounts (a parent before
// its children, as Docker sorts them), then the init.
func ociMounts(c *container.Container, at OCIPaths) []specs.Mount {
	hc := &c.HostConfig
	var ms []specs.Mount
	bind := func(src, dst string, ro bool) {
		opts := []string{"rbind"}
		if ro {
			opts = append(opts, "ro")
		}
		ms = append(ms, specs.Mount{Type: "bind", Source: src, Destination: dst, Options: opts})
	}
	for _, f := range []struct{ src, dst string }{
		{at.Etc.ResolvConf, "/etc/resolv.conf"}, {at.Etc.Hostname, "/etc/hostname"}, {at.Etc.Hosts, "/etc/hosts"},
	} {
		bind(f.src, f.dst, hc.ReadonlyRootfs)
	}
	// Docker's /dev/shm (chroot --docker makes it; its size is --shm-size).
	ms = append(ms, specs.Mount{Type: "tmpfs", Source: "shm", Destination: "/dev/shm",
		Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(shmSize(hc), 10)}})
	var user []specs.Mount
	for _, mp := range c.Mounts {
		if mp.Type == mount.TypeTmpfs {
			user = append(user, tmpfsMount(mp.Destination, "", tmpfsOptionsOf(hc.Mounts, mp.Destination), !mp.RW))
			continue
		}
		opts := []string{"rbind"}
		if !mp.RW {
			opts = append(opts, "ro")
		}
		if mp.Propagation != "" && mp.Propagation != mount.PropagationRPrivate {
			opts = append(opts, string(mp.Propagation))
		}
		user = append(user, specs.Mount{Type: "bind", Source: mp.Source, Destination: mp.Destination, Options: opts})
	}
	for dst, opts := range hc.Tmpfs {
		user = append(user, tmpfsMount(dst, opts, nil, false))
	}
	// Shallow first (as moby's sortMounts), then by name, so that the
	// order does not depend on a map's.
	sort.SliceStable(user, func(i, j int) bool {
		di, dj := strings.Count(user[i].Destination, "/"), strings.Count(user[j].Destination, "/")
		return di < dj || di == dj && user[i].Destination < user[j].Destination
	})
	ms = append(ms, user...)
	if hc.Init != nil && *hc.Init {
		bind(at.Init, InitPath, true)
	}
	return ms
}

// shmSize is /dev/shm's size: --shm-size, or Docker's default.
func shmSize(hc *container.HostConfig) int64 {
	if hc.ShmSize > 0 {
		return hc.ShmSize
	}
	return DefaultShmSize
}

// tmpfsMount is one tmpfs, with Docker's flags (TmpfsOptions).
func tmpfsMount(dst, opts string, o *mount.TmpfsOptions, ro bool) specs.Mount {
	all := TmpfsOptions(opts, o)
	if ro {
		all = append(all, "ro")
	}
	return specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: filepath.Clean(dst), Options: all}
}

// tmpfsOptionsOf finds the tmpfs options of --mount's mount at dst.
func tmpfsOptionsOf(ms []mount.Mount, dst string) *mount.TmpfsOptions {
	for _, m := range ms {
		if m.Type == mount.TypeTmpfs && filepath.Clean(m.Target) == dst {
			return m.TmpfsOptions
		}
	}
	return nil
}

// ociNamespaces are the container's new namespaces, and the named
// network namespace it joins (none: the host's network).
func ociNamespaces(at OCIPaths, userns bool) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.IPCNamespace}, {Type: specs.PIDNamespace}}
	if at.Netns != "" {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: at.Netns})
	}
	if at.CgroupNS {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	if userns {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return ns
}

// InitPath is where --init's init is bind-mounted, as Docker does.
const InitPath = "/sbin/docker-init"

// EtcFiles are the generated files of one container.
type EtcFiles struct{ Hostname, Hosts, ResolvConf string }

// EffectiveCaps is the set the container keeps, which gates the seccomp
// profile's capability-dependent rules (as Docker's profile does). The
// rules are capctl's own (Docker's: ALL in --cap-add starts from every
// capability, --cap-drop then removes; ALL in --cap-drop starts empty).
func EffectiveCaps(c CapSpec) ([]string, error) {
	set, err := caps.Compute(caps.DockerDefault, c.CapAdd, c.CapDrop, c.Privileged)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	names := set.DockerNames()
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "CAP_")
	}
	return names, nil
}
