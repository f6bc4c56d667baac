package plan

import (
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/inside/input"
	"mini-docker/mini-docker/spec"
)

// FromOCI reads an OCI runtime spec into the steps' terms: the root, the
// process, the mounts and the namespaces, with the capability flags as
// the user gave them (capctl applies them as Docker does) and the
// bounding set as the capabilities the container keeps.
func FromOCI(oci *specs.Spec, caps spec.CapSpec) Spec {
	p, l := oci.Process, oci.Linux
	s := Spec{Hostname: oci.Hostname, Merged: oci.Root.Path, ReadOnly: oci.Root.Readonly,
		Workdir: p.Cwd, Rlimits: p.Rlimits, User: p.User.Username, Argv: p.Args,
		Security: spec.Security{Seccomp: oci.Annotations[spec.AnnotationSeccomp], NoNewPrivs: p.NoNewPrivileges}, Caps: caps}
	for _, n := range p.Capabilities.Bounding {
		s.KeepCaps = append(s.KeepCaps, strings.TrimPrefix(n, "CAP_"))
	}
	for _, m := range oci.Mounts {
		// Docker's /dev/shm is chroot --docker's own: only its size travels.
		if m.Destination == "/dev/shm" && m.Source == "shm" {
			s.Shm = shmOption(m.Options)
			continue
		}
		s.Mounts = append(s.Mounts, m)
	}
	for _, ns := range l.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			s.NetnsPath = ns.Path
		}
		s.CgroupNS = s.CgroupNS || ns.Type == specs.CgroupNamespace
		s.Userns = s.Userns || ns.Type == specs.UserNamespace
	}
	return s
}

// shmOption is /dev/shm's size=BYTES as chroot --shm takes it ("" for
// Docker's 64m, which chroot --docker makes by itself).
func shmOption(opts []string) string {
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "size="); ok && v != strconv.Itoa(spec.DefaultShmSize) {
			return v
		}
	}
	return ""
}

// DevicesOf are --device's nodes as chroot --device takes them: the
// host's path, which chroot reads again before its pivot (the OCI spec's
// linux.devices has only the container's).
func DevicesOf(ms []container.DeviceMapping) []input.Device {
	var ds []input.Device
	for _, m := range ms {
		ds = append(ds, input.Device{Host: m.PathOnHost, Container: m.PathInContainer})
	}
	return ds
}
