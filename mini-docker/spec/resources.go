package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"mini-docker/cgroupctl/cgroup"
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
// the OOM killer, /dev/shm's size.
type Resources struct {
	MemoryReservation string
	OOMKillDisable    bool
	ShmSize           string
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
		if size > 0 {
			hc.ShmSize = size
		}
	}
	r.Warnings = nil
	if r.OOMKillDisable {
		// moby's verifyPlatformContainerResources: cgroup v2 has no
		// switch for the OOM killer, so the flag is dropped there.
		if cgroupV2 {
			r.Warnings = append(r.Warnings, "Your kernel does not support OomKillDisable. OomKillDisable discarded.")
			return nil
		}
		hc.OomKillDisable = &r.OOMKillDisable
		if hc.Memory == 0 {
			r.Warnings = append(r.Warnings, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
		}
	}
	return nil
}

// ociResources are the cgroup's limits (--cpus as a quota per period of
// cgroupctl's CFSPeriod, as Docker writes it).
func ociResources(hc *container.HostConfig) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if hc.Memory > 0 || hc.MemorySwap != 0 || hc.MemoryReservation > 0 || hc.OomKillDisable != nil {
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
