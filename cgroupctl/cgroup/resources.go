package cgroup

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup/devicefilter"
	"mini-docker/internal/units"
)

// Resources are the limits of a group, with Docker's names and units.
// The zero value of each field means "not set": leave the kernel's value.
type Resources struct {
	// Memory is --memory in bytes.
	Memory int64
	// MemorySwap is --memory-swap: memory plus swap, in bytes; -1 means
	// unlimited swap. When only Memory is set, Docker allows as much swap
	// again as memory (MemorySwap = 2 × Memory); Apply does the same.
	MemorySwap int64
	// NanoCPUs is --cpus in billionths of a CPU (0.5 CPU = 500000000).
	NanoCPUs int64
	// CPUShares is --cpu-shares, the v1 relative weight (default 1024).
	CPUShares uint64
	// PidsLimit is --pids-limit; -1 means unlimited.
	PidsLimit int64
	// CpusetCpus is --cpuset-cpus, a CPU list like "0-1" or "0,2".
	CpusetCpus string
	// MemoryReservation is --memory-reservation, a soft limit in bytes:
	// the kernel reclaims the group down to it first when memory runs
	// short (v1 memory.soft_limit_in_bytes), or protects it up to it
	// (v2 memory.low: Docker and runc write the same value there).
	MemoryReservation int64
	// OOMKillDisable is --oom-kill-disable: at its limit the group's
	// tasks wait for memory instead of being killed (v1
	// memory.oom_control). cgroup v2 has no such switch.
	OOMKillDisable bool
	// Devices is --devices: "docker" applies Docker's default device rules
	// (devicefilter.DockerRules: v1 devices controller, v2 eBPF program), "all" allows
	// every device (docker run --privileged); "" leaves the parent's.
	Devices string
	// DeviceRules: more devices.allow rules after Devices' ("c 10:229 rwm,...").
	DeviceRules string
}

// ParseDevices checks --devices.
func ParseDevices(s string) (string, error) {
	switch s {
	case "", "docker", "all":
		return s, nil
	}
	return "", fmt.Errorf("--devices %q: use docker (Docker's default device rules) or all (every device, as --privileged)", s)
}

// IsZero reports whether no limit is set.
func (r Resources) IsZero() bool { return r == Resources{} }

// CFSPeriod is the period Docker uses for --cpus: the group may run
// quota microseconds in every 100 ms.
const CFSPeriod = 100000

// MinMemory is Docker's smallest --memory: "Minimum memory limit allowed is 6MB".
const MinMemory = 6 * 1024 * 1024

// parseSize reads a size with Docker's grammar (units.RAMInBytes: "32m" is
// 33554432 bytes) and says what it wants when it cannot.
func parseSize(s string) (int64, error) {
	v, err := units.RAMInBytes(strings.TrimSpace(s))
	if err != nil {
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		}
		return 0, fmt.Errorf("invalid size %q: use a number of bytes or a number with a unit b, k, m, g (like 32m)", s)
	}
	return v, nil
}

// ParseMemory parses --memory: a size of at least 6 MiB, as Docker demands
// (below that the container cannot even start its runtime).
func ParseMemory(s string) (int64, error) { return parseMemoryFlag("--memory", "memory limit", s) }

// parseMemoryFlag parses a size flag that Docker wants at least 6 MiB of.
func parseMemoryFlag(flag, what, s string) (int64, error) {
	v, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", flag, err)
	}
	if v < MinMemory {
		return 0, fmt.Errorf("%s %s: minimum %s allowed is 6MB", flag, s, what)
	}
	return v, nil
}

// ParseMemorySwap parses --memory-swap: a size, or -1 for unlimited swap.
func ParseMemorySwap(s string) (int64, error) {
	if strings.TrimSpace(s) == "-1" {
		return -1, nil
	}
	v, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("--memory-swap: %w (or -1 for unlimited)", err)
	}
	if v == 0 {
		return 0, fmt.Errorf("--memory-swap %s: must be at least --memory, or -1 for unlimited", s)
	}
	return v, nil
}

// ParseCPUs parses --cpus ("0.5") into nano CPUs with Docker's grammar,
// and checks it against the CPUs this machine has, with Docker's message
// (0, no limit to Docker, is refused: here it would mean no --cpus).
func ParseCPUs(s string) (int64, error) {
	nano, err := units.NanoCPUs(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("--cpus %q: %v (like 0.5 or 2)", s, err)
	}
	n := runtime.NumCPU()
	if nano == 0 || units.CheckNanoCPUs(nano, n) != nil {
		return 0, fmt.Errorf("--cpus %s: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", s, n, n)
	}
	return nano, nil
}

// ParseShares parses --cpu-shares: 2 to 262144, the kernel's v1 range.
func ParseShares(s string) (uint64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 2 || v > 262144 {
		return 0, fmt.Errorf("--cpu-shares %q: must be a whole number from 2 to 262144 (default 1024)", s)
	}
	return uint64(v), nil
}

// ParsePids parses --pids-limit: a positive number of tasks, or -1.
func ParsePids(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v == 0 || v < -1 {
		return 0, fmt.Errorf("--pids-limit %q: must be a positive number of tasks, or -1 for unlimited", s)
	}
	return v, nil
}

// ParseCpuset checks --cpuset-cpus ("0-1", "0,2") against this machine's CPUs.
func ParseCpuset(s string) (string, error) {
	n := runtime.NumCPU()
	bad := fmt.Errorf("--cpuset-cpus %q: requested CPUs are not available - requested %s, available: 0-%d", s, s, n-1)
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("--cpuset-cpus: empty CPU list")
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return "", fmt.Errorf("--cpuset-cpus %q: not a CPU list (like 0-1 or 0,2)", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return "", fmt.Errorf("--cpuset-cpus %q: not a CPU list (like 0-1 or 0,2)", s)
			}
		}
		if b >= n {
			return "", bad
		}
	}
	return s, nil
}

// SharesToWeight converts v1 cpu.shares (2..262144, default 1024) to v2
// cpu.weight (1..10000, default 100) the way runc (>= 1.3.2, through
// opencontainers/cgroups) and crun (>= 1.23) do: a quadratic in log2
// that maps minimum to minimum, default to default and maximum to
// maximum. Older runc used the straight line 1 + (shares-2)*9999/262142,
// which turned the default 1024 into 39 and starved containers next to
// systemd services at 100.
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	exponent := (l*l+125*l)/612.0 - 7.0/34.0
	return uint64(math.Ceil(math.Pow(10, exponent)))
}

// needs lists the controllers the set limits use.
func (r Resources) needs() []string {
	var c []string
	if r.CpusetCpus != "" {
		c = append(c, "cpuset")
	}
	if r.NanoCPUs != 0 || r.CPUShares != 0 {
		c = append(c, "cpu")
	}
	if r.Memory != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 || r.OOMKillDisable {
		c = append(c, "memory")
	}
	if r.PidsLimit != 0 {
		c = append(c, "pids")
	}
	return c
}

// check refuses limits the driver's tree cannot hold, naming the missing
// controller and the host's mode, before anything is created.
func (h *Host) check(r Resources) error {
	if r.MemorySwap > 0 && r.Memory == 0 {
		return fmt.Errorf("--memory-swap needs --memory as well (it is memory plus swap)")
	}
	if r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return fmt.Errorf("--memory-swap %d is smaller than --memory %d: it is memory plus swap, so it must be at least --memory", r.MemorySwap, r.Memory)
	}
	if r.Memory > 0 && r.MemoryReservation > r.Memory {
		return fmt.Errorf("--memory-reservation %d is above --memory %d: a soft limit must be at most the limit", r.MemoryReservation, r.Memory)
	}
	for _, c := range r.needs() {
		if !h.Has(c) {
			if h.Driver == V2 {
				return fmt.Errorf("the %s controller is not available in the cgroup v2 tree %s (host mode %s; its cgroup.controllers offers: %s)",
					c, h.V2Root, h.Mode, orNone(h.V2Available))
			}
			return fmt.Errorf("the %s controller is not available: no v1 hierarchy has it mounted (host mode %s)", c, h.Mode)
		}
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// write is one file write that sets a limit.
type write struct {
	controller string // which v1 hierarchy holds file ("" on v2)
	file       string
	value      string
}

// v2Writes are the files a v2 group's limits go to.
func (r Resources) v2Writes() []write {
	var w []write
	if r.CpusetCpus != "" {
		w = append(w, write{"cpuset", "cpuset.cpus", r.CpusetCpus})
	}
	if r.NanoCPUs != 0 {
		// cpu.max is "QUOTA PERIOD": QUOTA microseconds of CPU time per PERIOD.
		w = append(w, write{"cpu", "cpu.max", fmt.Sprintf("%d %d", quota(r.NanoCPUs), CFSPeriod)})
	}
	if r.CPUShares != 0 {
		w = append(w, write{"cpu", "cpu.weight", strconv.FormatUint(SharesToWeight(r.CPUShares), 10)})
	}
	if r.Memory != 0 {
		w = append(w, write{"memory", "memory.max", strconv.FormatInt(r.Memory, 10)})
	}
	if swap := r.swap(); swap != 0 {
		// v2 limits swap alone (memory.swap.max), v1 and Docker count
		// memory plus swap: runc converts by subtracting.
		v := "max"
		if swap > 0 {
			v = strconv.FormatInt(swap-r.Memory, 10)
		}
		w = append(w, write{"memory", "memory.swap.max", v})
	}
	if r.MemoryReservation != 0 {
		w = append(w, write{"memory", "memory.low", strconv.FormatInt(r.MemoryReservation, 10)})
	}
	if r.PidsLimit != 0 {
		w = append(w, write{"pids", "pids.max", limitString(r.PidsLimit)})
	}
	return w
}

// v1Writes are the files a v1 group's limits go to (memory is handled
// apart, see setMemoryV1).
func (r Resources) v1Writes() []write {
	var w []write
	if r.CpusetCpus != "" {
		w = append(w, write{"cpuset", "cpuset.cpus", r.CpusetCpus})
	}
	if r.NanoCPUs != 0 {
		w = append(w, write{"cpu", "cpu.cfs_period_us", strconv.Itoa(CFSPeriod)},
			write{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(quota(r.NanoCPUs), 10)})
	}
	if r.CPUShares != 0 {
		w = append(w, write{"cpu", "cpu.shares", strconv.FormatUint(r.CPUShares, 10)})
	}
	if r.MemoryReservation != 0 {
		w = append(w, write{"memory", "memory.soft_limit_in_bytes", strconv.FormatInt(r.MemoryReservation, 10)})
	}
	if r.OOMKillDisable {
		// "1" sets oom_kill_disable; the file also reports under_oom
		// and the kill counter (cgroupctl stats reads it).
		w = append(w, write{"memory", "memory.oom_control", "1"})
	}
	if r.PidsLimit != 0 {
		w = append(w, write{"pids", "pids.max", limitString(r.PidsLimit)})
	}
	return w
}

// swap is the memory+swap limit to apply: Docker's default of twice the
// memory when only --memory is given.
func (r Resources) swap() int64 {
	if r.MemorySwap == 0 && r.Memory > 0 {
		return 2 * r.Memory
	}
	return r.MemorySwap
}

func quota(nano int64) int64 { return nano * CFSPeriod / 1e9 }

func limitString(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// LimitFlag is one of cgroupctl's limit flags: its name and help, how
// its value sets Resources, how Resources renders it (Flags, as --explain
// prints it). A new limit: an entry here, a field, its v1/v2 file.
type LimitFlag struct {
	Name, Help string
	Bool       bool // a switch: Set gets "true"
	Set        func(r *Resources, value string) error
	Value      func(r Resources) string // "" when not set
}

// LimitFlags are cgroupctl's limit flags, in the order Flags renders them.
var LimitFlags = []LimitFlag{
	{"memory", "memory limit (like 100m; units b, k, m, g)", false,
		func(r *Resources, v string) (err error) { r.Memory, err = ParseMemory(v); return },
		func(r Resources) string { return positive(r.Memory) }},
	{"memory-swap", "memory plus swap limit (like 200m), -1 for unlimited swap (default: twice --memory)", false,
		func(r *Resources, v string) (err error) { r.MemorySwap, err = ParseMemorySwap(v); return },
		func(r Resources) string { return nonZero(r.MemorySwap) }},
	{"memory-reservation", "soft memory limit (like 50m): v1 memory.soft_limit_in_bytes, v2 memory.low", false,
		func(r *Resources, v string) (err error) { r.MemoryReservation, err = ParseMemoryReservation(v); return },
		func(r Resources) string { return positive(r.MemoryReservation) }},
	{"oom-kill-disable", "at the memory limit, make tasks wait instead of killing one (v1 memory.oom_control; not on v2)", true,
		func(r *Resources, v string) error { r.OOMKillDisable = v == "true"; return nil },
		func(r Resources) string { return map[bool]string{true: "true"}[r.OOMKillDisable] }},
	{"device-cgroup-rule", "more device rules to allow, after --devices (like 'c 10:229 rwm'; several comma-separated): devices.allow on v1, the eBPF device program on v2", false,
		func(r *Resources, v string) (err error) { r.DeviceRules, err = ParseDeviceRules(v); return },
		func(r Resources) string { return r.DeviceRules }},
	{"cpus", "CPUs the group may use (like 0.5: half of one CPU's time)", false,
		func(r *Resources, v string) (err error) { r.NanoCPUs, err = ParseCPUs(v); return },
		func(r Resources) string {
			if r.NanoCPUs <= 0 {
				return ""
			}
			return strconv.FormatFloat(float64(r.NanoCPUs)/1e9, 'f', -1, 64)
		}},
	{"cpu-shares", "relative CPU weight (v1 cpu.shares, default 1024; converted to cpu.weight on v2)", false,
		func(r *Resources, v string) (err error) { r.CPUShares, err = ParseShares(v); return },
		func(r Resources) string { return positive(int64(r.CPUShares)) }},
	{"cpuset-cpus", "CPUs the group may run on (like 0-1 or 0,2)", false,
		func(r *Resources, v string) (err error) { r.CpusetCpus, err = ParseCpuset(v); return },
		func(r Resources) string { return r.CpusetCpus }},
	{"pids-limit", "most tasks (processes and threads) the group may hold, -1 for unlimited", false,
		func(r *Resources, v string) (err error) { r.PidsLimit, err = ParsePids(v); return },
		func(r Resources) string { return positive(r.PidsLimit) }},
}

func positive(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func nonZero(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// Flags are cgroupctl create's flags that ask for r's limits (not
// --devices), as mini-docker --explain prints them.
func (r Resources) Flags() []string {
	var f []string
	for _, l := range LimitFlags {
		switch v := l.Value(r); {
		case v == "":
		case l.Bool:
			f = append(f, "--"+l.Name)
		default:
			f = append(f, "--"+l.Name, v)
		}
	}
	return f
}

// ParseMemoryReservation parses --memory-reservation: a size of at
// least 6 MiB, as Docker demands.
func ParseMemoryReservation(s string) (int64, error) {
	return parseMemoryFlag("--memory-reservation", "memory reservation", s)
}

// ParseDeviceRules checks rules as devices.allow reads them: TYPE
// MAJOR:MINOR ACCESS (devicefilter.Parse), comma-separated.
func ParseDeviceRules(s string) (string, error) {
	for _, r := range strings.Split(s, ",") {
		if _, _, err := devicefilter.Parse(r); err != nil || strings.Count(r, " ") != 2 {
			return "", fmt.Errorf("--device-cgroup-rule %q: want TYPE MAJOR:MINOR ACCESS, like 'c 10:229 rwm'", r)
		}
	}
	return s, nil
}

// ResourcesOf reads an OCI runtime spec's linux.resources into
// cgroupctl's limits (--cpus from the CFS quota per period, the period
// Docker's when the spec names none): the one conversion, used by
// mini-docker's cgroup step and by its OCI runtime.
func ResourcesOf(r *specs.LinuxResources) Resources {
	var out Resources
	if r == nil {
		return out
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit > 0 {
			out.Memory = *m.Limit
		}
		if m.Swap != nil {
			out.MemorySwap = *m.Swap
		}
		if m.Reservation != nil && *m.Reservation > 0 {
			out.MemoryReservation = *m.Reservation
		}
		out.OOMKillDisable = m.DisableOOMKiller != nil && *m.DisableOOMKiller
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && *c.Quota > 0 {
			period := uint64(CFSPeriod)
			if c.Period != nil && *c.Period > 0 {
				period = *c.Period
			}
			out.NanoCPUs = *c.Quota * 1e9 / int64(period)
		}
		if c.Shares != nil && *c.Shares > 0 {
			out.CPUShares = *c.Shares
		}
		out.CpusetCpus = c.Cpus
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0 {
		out.PidsLimit = *r.Pids.Limit
	}
	return out
}
