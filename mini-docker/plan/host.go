package plan

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
)

// The host's steps take their arguments from the same OCI spec.

// CgroupResources are the OCI spec's resources in cgroupctl's terms:
// the cgroup step's limits, with every device allowed when privileged.
func CgroupResources(r *specs.LinuxResources, privileged bool) cgroup.Resources {
	res := cgroup.Resources{Devices: "docker"}
	if privileged {
		res.Devices = "all"
	}
	if r == nil {
		return res
	}
	if m := r.Memory; m != nil && m.Limit != nil {
		res.Memory = *m.Limit
	}
	if m := r.Memory; m != nil && m.Swap != nil {
		res.MemorySwap = *m.Swap
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && c.Period != nil && *c.Period > 0 {
			res.NanoCPUs = *c.Quota * 1e9 / int64(*c.Period)
		}
		if c.Shares != nil {
			res.CPUShares = *c.Shares
		}
		res.CpusetCpus = c.Cpus
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		res.PidsLimit = max(*r.Pids.Limit, 0)
	}
	return res
}
