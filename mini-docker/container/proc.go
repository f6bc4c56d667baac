package container

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// StartTime returns field 22 of /proc/PID/stat (the process's start time
// in clock ticks since boot). A PID plus its start time names one process
// for good: the kernel reuses PIDs, never the pair.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %d is a zombie", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// Alive reports whether the process pid started at start still runs
// (start 0 checks the PID only).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := StartTime(pid)
	if err != nil {
		return false
	}
	return start == 0 || st == start
}

// PidsInNamespace lists the host PIDs of the processes in pid's PID
// namespace (which, unlike a cgroup, also holds exec'd processes before
// they join it): those whose /proc/PID/ns/pid is the same.
func PidsInNamespace(pid int) []int {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range ents {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink("/proc/" + d.Name() + "/ns/pid"); err == nil && ns == want {
			pids = append(pids, n)
		}
	}
	return pids
}

// ParseSignal reads a signal as docker kill -s, run --stop-signal and
// runc kill take it: a number of 1-64, or a name with or without SIG, in
// any case (9, KILL, sigkill).
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	if n := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG")); n != 0 {
		return n, nil
	}
	return 0, fmt.Errorf("invalid signal: %s", s)
}
