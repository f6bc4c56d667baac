package cgroup

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stats is what the kernel counts for a group. A section is nil when the
// tree holding the group has no such controller (the v2 tree of a hybrid
// host has none, but still counts CPU time in cpu.stat).
type Stats struct {
	Name   string       `json:"name"`
	Mode   Mode         `json:"mode"` // the tree the group lives in: v1 or v2
	Procs  []int        `json:"procs"`
	Frozen bool         `json:"frozen"`
	Memory *MemoryStats `json:"memory,omitempty"`
	CPU    *CPUStats    `json:"cpu,omitempty"`
	Pids   *PidsStats   `json:"pids,omitempty"`
}

// MemoryStats: usage, its peak, the limit, and what happened at the limit.
type MemoryStats struct {
	Current uint64 `json:"current"` // bytes (v2 memory.current, v1 memory.usage_in_bytes)
	Peak    uint64 `json:"peak"`    // bytes (v2 memory.peak, v1 memory.max_usage_in_bytes)
	Limit   int64  `json:"limit"`   // bytes, -1 = unlimited (memory.max, memory.limit_in_bytes)
	// LimitHits counts the times usage reached the limit (v2 memory.events
	// "max", v1 memory.failcnt): the kernel then reclaims, and only when
	// reclaim fails does it kill.
	LimitHits uint64 `json:"limit_hits"`
	// OOMKills counts processes the OOM killer killed in the group (v2
	// memory.events "oom_kill", v1 memory.oom_control "oom_kill").
	OOMKills uint64 `json:"oom_kills"`
}

// CPUStats: time used and time the CFS bandwidth limit held the group back.
type CPUStats struct {
	UsageUsec     uint64 `json:"usage_usec"`     // v2 cpu.stat usage_usec, v1 cpuacct.usage / 1000
	Periods       uint64 `json:"nr_periods"`     // enforcement periods the group was runnable in
	Throttled     uint64 `json:"nr_throttled"`   // periods it ran out of quota
	ThrottledUsec uint64 `json:"throttled_usec"` // time spent held back
	QuotaUsec     int64  `json:"quota_usec"`     // -1 = unlimited
	PeriodUsec    int64  `json:"period_usec"`
}

// PidsStats: tasks (processes and threads) and the limit.
type PidsStats struct {
	Current uint64 `json:"current"`
	Max     int64  `json:"max"` // -1 = unlimited
	// Refused counts forks the limit refused (pids.events "max").
	Refused uint64 `json:"refused"`
}

// OOMKilled says whether the kernel's OOM killer has killed a task of
// group name under parent on this host (v1 memory.oom_control, v2
// memory.events): false when the group or its counter cannot be read.
func OOMKilled(parent, name string) bool {
	h, err := Detected()
	if err != nil {
		return false
	}
	g, err := Open(h, parent, name)
	if err != nil {
		return false
	}
	return g.OOMKills() > 0
}

// OOMKills reads only the OOM kill counter (v2 memory.events
// "oom_kill", v1 memory.oom_control "oom_kill"): one file, where Stats
// reads every controller's. 0 when the group has no memory controller.
func (g *Group) OOMKills() uint64 {
	if g.host.Driver == V2 {
		return readKV(filepath.Join(g.dir(""), "memory.events"))["oom_kill"]
	}
	if _, ok := g.host.V1["memory"]; !ok {
		return 0
	}
	return readKV(filepath.Join(g.dir("memory"), "memory.oom_control"))["oom_kill"]
}

// Stats reads the group's counters.
func (g *Group) Stats() (*Stats, error) {
	if !g.Exists() {
		return nil, fmt.Errorf("stats of cgroup %q: %w under %s", g.Name, ErrNotFound, orRoot(g.Parent))
	}
	s := &Stats{Name: g.Name, Mode: g.host.Driver}
	var err error
	if s.Procs, err = g.Procs(); err != nil {
		return nil, fmt.Errorf("stats of cgroup %q: %w", g.Name, err)
	}
	if s.Procs == nil {
		s.Procs = []int{}
	}
	if g.host.Driver == V2 {
		g.statsV2(s)
	} else {
		g.statsV1(s)
	}
	return s, nil
}

func (g *Group) statsV2(s *Stats) {
	d := g.dir("")
	ev := readKV(filepath.Join(d, "cgroup.events"))
	s.Frozen = ev["frozen"] == 1
	if exists(filepath.Join(d, "memory.current")) {
		m := &MemoryStats{Limit: -1}
		m.Current = readUint(filepath.Join(d, "memory.current"))
		m.Peak = readUint(filepath.Join(d, "memory.peak"))
		if v, err := readInt(filepath.Join(d, "memory.max")); err == nil {
			m.Limit = v
		}
		e := readKV(filepath.Join(d, "memory.events"))
		m.LimitHits, m.OOMKills = e["max"], e["oom_kill"]
		s.Memory = m
	}
	if exists(filepath.Join(d, "cpu.stat")) {
		st := readKV(filepath.Join(d, "cpu.stat"))
		c := &CPUStats{UsageUsec: st["usage_usec"], Periods: st["nr_periods"], Throttled: st["nr_throttled"],
			ThrottledUsec: st["throttled_usec"], QuotaUsec: -1, PeriodUsec: CFSPeriod}
		if b, err := os.ReadFile(filepath.Join(d, "cpu.max")); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				if f[0] != "max" {
					c.QuotaUsec, _ = strconv.ParseInt(f[0], 10, 64)
				}
				c.PeriodUsec, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
		s.CPU = c
	}
	if exists(filepath.Join(d, "pids.current")) {
		p := &PidsStats{Current: readUint(filepath.Join(d, "pids.current")), Max: -1}
		if v, err := readInt(filepath.Join(d, "pids.max")); err == nil {
			p.Max = v
		}
		p.Refused = readKV(filepath.Join(d, "pids.events"))["max"]
		s.Pids = p
	}
}

// v1's "unlimited" is the largest page-aligned int64.
const v1Unlimited = 9223372036854771712

func (g *Group) statsV1(s *Stats) {
	if _, ok := g.host.V1["freezer"]; ok {
		b, _ := os.ReadFile(filepath.Join(g.dir("freezer"), "freezer.state"))
		s.Frozen = strings.TrimSpace(string(b)) == "FROZEN"
	}
	if _, ok := g.host.V1["memory"]; ok {
		d := g.dir("memory")
		m := &MemoryStats{Limit: -1}
		m.Current = readUint(filepath.Join(d, "memory.usage_in_bytes"))
		m.Peak = readUint(filepath.Join(d, "memory.max_usage_in_bytes"))
		if v, err := readInt(filepath.Join(d, "memory.limit_in_bytes")); err == nil && v < v1Unlimited {
			m.Limit = v
		}
		m.LimitHits = readUint(filepath.Join(d, "memory.failcnt"))
		m.OOMKills = g.OOMKills()
		s.Memory = m
	}
	if _, ok := g.host.V1["cpu"]; ok {
		st := readKV(filepath.Join(g.dir("cpu"), "cpu.stat"))
		c := &CPUStats{Periods: st["nr_periods"], Throttled: st["nr_throttled"],
			ThrottledUsec: st["throttled_time"] / 1000, QuotaUsec: -1, PeriodUsec: CFSPeriod}
		if v, err := readInt(filepath.Join(g.dir("cpu"), "cpu.cfs_quota_us")); err == nil {
			c.QuotaUsec = v
		}
		if v, err := readInt(filepath.Join(g.dir("cpu"), "cpu.cfs_period_us")); err == nil {
			c.PeriodUsec = v
		}
		if _, ok := g.host.V1["cpuacct"]; ok {
			c.UsageUsec = readUint(filepath.Join(g.dir("cpuacct"), "cpuacct.usage")) / 1000
		}
		s.CPU = c
	}
	if _, ok := g.host.V1["pids"]; ok {
		d := g.dir("pids")
		p := &PidsStats{Current: readUint(filepath.Join(d, "pids.current")), Max: -1}
		if v, err := readInt(filepath.Join(d, "pids.max")); err == nil {
			p.Max = v
		}
		p.Refused = readKV(filepath.Join(d, "pids.events"))["max"]
		s.Pids = p
	}
}

func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// readKV reads a flat keyed file ("oom_kill 1" per line).
func readKV(path string) map[string]uint64 {
	m := map[string]uint64{}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			m[f[0]], _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	return m
}
