package spec

import (
	"fmt"
	"path"
	"strings"

	dockerunits "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/chroot/jail"
	"mini-docker/internal/units"
	"mini-docker/mini-docker/container"
)

// A resource flag, from docker run to the kernel, in one file: the
// flag (resourceFlags), its check in Docker's words into HostConfig
// (hostConfig), and HostConfig into the OCI spec's resources
// (ociResources). The cgroup step reads those with
// cgroup.ResourcesOf, and cgroupctl's package renders and applies them
// (cgroup.LimitFlags), so a new cgroup limit touches this file and
// cgroupctl/cgroup/resources.go only.

// Resources are the run flags about what the kernel gives the
// container beyond the cgroup limits of flags.go: a soft memory limit,
// the OOM killer, /dev/shm's size, the process's resource limits, the
// host's devices.
type Resources struct {
	MemoryReservation string
	OOMKillDisable    bool
	ShmSize           string
	Ulimits           []string // NAME=SOFT[:HARD], Docker's names (nofile, nproc, core, ...)
	Devices           []string // HOST[:CONTAINER][:PERMISSIONS]
	// Warnings are what Docker's daemon says and goes on (the CLI
	// prints each as "WARNING: ..."), set by HostConfig.
	Warnings []string
}

// DefaultShmSize is /dev/shm's size when --shm-size is not given (or 0).
const DefaultShmSize = 64 << 20

func resourceFlags(f *pflag.FlagSet, r *Resources) {
	f.StringVar(&r.MemoryReservation, "memory-reservation", "", "memory soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low)")
	f.BoolVar(&r.OOMKillDisable, "oom-kill-disable", false, "disable OOM Killer (cgroup v1 only, as Docker)")
	f.StringVar(&r.ShmSize, "shm-size", "", "size of /dev/shm (default 64m)")
	f.StringArrayVar(&r.Devices, "device", nil, "add a host device to the container: HOST[:CONTAINER][:PERMISSIONS] (rwm; made by chroot, allowed in the devices cgroup)")
	f.StringArrayVar(&r.Ulimits, "ulimit", nil, "ulimit options: NAME=SOFT[:HARD] (nofile, nproc, core, memlock, stack, ...; set with prlimit in the chain)")
}

// hostConfig checks the flags as Docker's CLI and daemon do and sets
// them in hc, whose Memory is already parsed.
func (r *Resources) hostConfig(hc *container.HostConfig, cgroupV2 bool) error {
	var err error
	if r.MemoryReservation != "" {
		if hc.MemoryReservation, err = units.RAMInBytes(r.MemoryReservation); err != nil {
			return flagErr(r.MemoryReservation, "--memory-reservation", "%v", err)
		}
		if hc.MemoryReservation > 0 && hc.MemoryReservation < cgroup.MinMemory {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return fmt.Errorf("Minimum memory reservation allowed is 6MB")
		}
		if hc.Memory > 0 && hc.Memory < hc.MemoryReservation {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return fmt.Errorf("Minimum memory limit can not be less than memory reservation limit, see usage")
		}
	}
	hc.ShmSize = DefaultShmSize
	if r.ShmSize != "" {
		size, err := units.RAMInBytes(r.ShmSize)
		if err != nil {
			return flagErr(r.ShmSize, "--shm-size", "%v", err)
		}
		if size < 0 { // a size past 8 EiB wraps, in Docker's go-units as here
			return fmt.Errorf("SHM size can not be less than 0")
		}
		if size > 0 {
			hc.ShmSize = size
		}
	}
	// Empty lists and false, not null, in inspect: what Docker's CLI sends.
	hc.Ulimits, hc.Devices, hc.OomKillDisable = []*dockerunits.Ulimit{}, []container.DeviceMapping{}, new(bool)
	for _, u := range r.Ulimits {
		// Docker's CLI parses it with go-units, as here.
		l, err := dockerunits.ParseUlimit(u)
		if err != nil {
			return flagErr(u, "--ulimit", "%v", err)
		}
		hc.Ulimits = append(hc.Ulimits, l)
	}
	for _, d := range r.Devices {
		m, err := ParseDevice(d)
		if err != nil {
			return err
		}
		hc.Devices = append(hc.Devices, m)
	}
	r.Warnings = nil
	if r.OOMKillDisable {
		// moby's verifyPlatformContainerResources: cgroup v2 has no
		// switch for the OOM killer, so the flag is dropped there.
		if cgroupV2 {
			r.Warnings = append(r.Warnings, "Your kernel does not support OomKillDisable. OomKillDisable discarded.")
			hc.OomKillDisable = nil
			return nil
		}
		hc.OomKillDisable = &r.OOMKillDisable
		if hc.Memory == 0 {
			r.Warnings = append(r.Warnings, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
		}
	}
	return nil
}

// ParseDevice reads --device HOST[:CONTAINER][:PERMISSIONS] as Docker's
// CLI does (parseLinuxDevice, then validateLinuxPath's checks, in its
// words): a second field that is a mode is the permissions.
func ParseDevice(v string) (container.DeviceMapping, error) {
	m := container.DeviceMapping{CgroupPermissions: "rwm"}
	bad := func(format string, args ...any) (container.DeviceMapping, error) {
		return m, &UsageError{Msg: fmt.Sprintf(format, args...)}
	}
	f := strings.Split(v, ":")
	if len(f) > 3 || f[0] == "" {
		return bad("bad format for path: %s", v)
	}
	m.PathOnHost = f[0]
	switch {
	case len(f) == 3 && !deviceMode(f[2]):
		return bad("bad mode specified: %s", f[2])
	case len(f) == 3:
		m.PathInContainer, m.CgroupPermissions = f[1], f[2]
	case len(f) == 2 && deviceMode(f[1]):
		m.CgroupPermissions = f[1]
	case len(f) == 2:
		m.PathInContainer = f[1]
	}
	if m.PathInContainer == "" {
		m.PathInContainer = m.PathOnHost
	}
	if !path.IsAbs(m.PathInContainer) {
		return bad("%s is not an absolute path", m.PathInContainer)
	}
	m.PathInContainer = path.Clean(m.PathInContainer)
	return m, nil
}

// deviceMode reports whether s is a device cgroup's permissions: some
// of r, w and m, each once.
func deviceMode(s string) bool {
	seen := map[rune]bool{}
	for _, c := range s {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return s != ""
}

// DeviceError is a --device whose host node cannot be read. Docker's
// CLI exits 127 on it (its start error says "no such file or
// directory"), and so does run.
type DeviceError struct{ Err error }

func (e *DeviceError) Error() string { return e.Err.Error() }
func (e *DeviceError) Unwrap() error { return e.Err }

// ociDevices are linux.devices, the nodes of --device read from the
// host now (as moby does when it writes the spec), and their devices
// cgroup rules with --device's permissions.
func ociDevices(ms []container.DeviceMapping) ([]specs.LinuxDevice, []specs.LinuxDeviceCgroup, error) {
	var devs []specs.LinuxDevice
	var rules []specs.LinuxDeviceCgroup
	for _, m := range ms {
		ds, err := jail.HostDevices(m.PathOnHost, m.PathInContainer)
		if err != nil {
			return nil, nil, &DeviceError{err}
		}
		for _, d := range ds {
			mode, uid, gid := d.Mode, d.UID, d.GID
			major, minor := int64(d.Major), int64(d.Minor)
			devs = append(devs, specs.LinuxDevice{Path: d.Path, Type: d.TypeLetter(), Major: major, Minor: minor,
				FileMode: &mode, UID: &uid, GID: &gid})
			rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: d.TypeLetter(), Major: &major, Minor: &minor,
				Access: m.CgroupPermissions})
		}
	}
	return devs, rules, nil
}

// ociRlimits are process.rlimits, as moby writes them: RLIMIT_ and the
// name in capitals, -1 as RLIM_INFINITY.
func ociRlimits(hc *container.HostConfig) []specs.POSIXRlimit {
	var rl []specs.POSIXRlimit
	for _, u := range hc.Ulimits {
		rl = append(rl, specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	return rl
}

// ociResources are the cgroup's limits (--cpus as a quota per period of
// cgroupctl's CFSPeriod, as Docker writes it).
func ociResources(hc *container.HostConfig) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if hc.Memory > 0 || hc.MemorySwap != 0 || hc.MemoryReservation > 0 || hc.OomKillDisable != nil && *hc.OomKillDisable {
		r.Memory = &specs.LinuxMemory{DisableOOMKiller: hc.OomKillDisable}
		if hc.Memory > 0 {
			r.Memory.Limit = &hc.Memory
		}
		if hc.MemorySwap != 0 {
			r.Memory.Swap = &hc.MemorySwap
		}
		if hc.MemoryReservation > 0 {
			r.Memory.Reservation = &hc.MemoryReservation
		}
	}
	if hc.NanoCPUs > 0 || hc.CPUShares > 0 || hc.CpusetCpus != "" {
		r.CPU = &specs.LinuxCPU{Cpus: hc.CpusetCpus}
		if hc.NanoCPUs > 0 {
			period := uint64(cgroup.CFSPeriod)
			quota := hc.NanoCPUs * int64(period) / 1e9
			r.CPU.Period, r.CPU.Quota = &period, &quota
		}
		if hc.CPUShares > 0 {
			shares := uint64(hc.CPUShares)
			r.CPU.Shares = &shares
		}
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		r.Pids = &specs.LinuxPids{Limit: hc.PidsLimit}
	}
	r.Devices = []specs.LinuxDeviceCgroup{{Allow: hc.Privileged, Access: "rwm"}}
	return r
}

// CgroupV2 reports whether the host runs the unified hierarchy only
// (Docker gives containers a cgroup namespace there, not on v1 or
// hybrid hosts, and drops --oom-kill-disable). cgroupctl's detection
// reads it from the mounts.
func CgroupV2() bool {
	h, err := cgroup.Detected()
	return err == nil && h.Mode == cgroup.V2
}
