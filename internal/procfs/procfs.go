// Package procfs reads what the toolkit asks /proc about processes
// (proc(5)): which PIDs this PID namespace shows, and a process's
// /proc/PID/stat (its command name, state, parent and start time).
//
// It is the one reader of them: mini-docker uses it to know a
// container's processes and whether its PID 1 still runs (lesson 09),
// the lessons' probe to list the PIDs a container sees (lesson 02), the
// lesson runner, its checks and the bench to find what they started.
package procfs

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// PIDs lists the processes /proc shows now (those that end meanwhile
// may be among them), in ascending order.
func PIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	slices.Sort(pids) // ReadDir's order is the names', where "10" < "9"
	return pids
}

// Stat is what /proc/PID/stat says of a process.
type Stat struct {
	Comm      string // field 2, without its parentheses (at most 15 bytes)
	State     byte   // field 3: R running, S sleeping, D disk, Z zombie, X dead...
	Ppid      int    // field 4: the parent's PID
	StartTime uint64 // field 22: when it started, in clock ticks since boot
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	st, err := ParseStat(string(b))
	if err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

// ParseStat parses the text of /proc/PID/stat. A process names itself
// (prctl PR_SET_NAME), so the command name may hold spaces and
// parentheses: it runs from the first "(" to the last ")", and the
// fields are counted after that.
func ParseStat(s string) (Stat, error) {
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return Stat{}, fmt.Errorf("no command name in parentheses")
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("%d fields after the command name, want at least 20", len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Stat{}, fmt.Errorf("parent %q: %w", f[1], err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("start time %q: %w", f[19], err)
	}
	return Stat{Comm: s[i+1 : j], State: f[0][0], Ppid: ppid, StartTime: start}, nil
}
