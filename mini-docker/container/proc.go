package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/procfs"
)

// StartTime returns field 22 of /proc/PID/stat (the process's start time
// in clock ticks since boot). A PID plus its start time names one process
// for good: the kernel reuses PIDs, never the pair.
func StartTime(pid int) (uint64, error) {
	if pid == os.Getpid() {
		return ownStart()
	}
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	if st.State == 'Z' || st.State == 'X' {
		return 0, fmt.Errorf("process %d is a zombie", pid)
	}
	return st.StartTime, nil
}

// ownStart is our own start time, read once: a run records it when it
// starts the container and again when it marks it running.
var ownStart = sync.OnceValues(func() (uint64, error) {
	st, err := procfs.ReadStat(os.Getpid())
	if err != nil {
		return 0, err
	}
	return st.StartTime, nil
})

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

// Signal sends sig to process pid if it is still the one that started
// at start (Alive). A process already gone is not an error: it ended
// between its state's reading and now (ESRCH included).
func Signal(pid int, start uint64, sig syscall.Signal) error {
	if !Alive(pid, start) {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// PidsInNamespace lists the host PIDs of the processes in pid's PID
// namespace (which, unlike a cgroup, also holds exec'd processes before
// they join it): those whose /proc/PID/ns/pid is the same.
func PidsInNamespace(pid int) []int {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil
	}
	var pids []int
	for _, n := range procfs.PIDs() {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); err == nil && ns == want {
			pids = append(pids, n)
		}
	}
	return pids
}

// StopGrace is how long stop and restart wait for c before SIGKILL when
// the command names no time (docker stop without -t, the API without
// ?t=): c's --stop-timeout (negative: for as long as it takes), else
// dockerd's default of 10 seconds.
func (c *Container) StopGrace() time.Duration {
	if t := c.Config.StopTimeout; t != nil {
		if *t < 0 {
			return -1
		}
		return time.Duration(*t) * time.Second
	}
	return 10 * time.Second
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

// OpenProcRoot opens (O_PATH) the root of a running container's first
// process pid, started at start, as that process sees it: /proc/PID/root,
// its mount namespace's view, the volumes and binds mounted where the
// container has them, so a path is resolved as in the container (a
// symlink into a volume, a bound file that cannot be replaced). /proc/PID is held open while its
// start time is checked, so a PID reused meanwhile is refused.
func OpenProcRoot(pid int, start uint64) (int, error) {
	dfd, err := unix.Open(fmt.Sprintf("/proc/%d", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the container's process %d: %w", pid, err)
	}
	defer unix.Close(dfd)
	sfd, err := unix.Openat(dfd, "stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the container's process %d: %w", pid, err)
	}
	b := make([]byte, 4096)
	n, err := unix.Read(sfd, b)
	unix.Close(sfd)
	if err != nil || n <= 0 {
		return -1, fmt.Errorf("the container's process %d: read stat: %v", pid, err)
	}
	st, err := procfs.ParseStat(string(b[:n]))
	if err != nil || start != 0 && st.StartTime != start {
		return -1, fmt.Errorf("the container's process %d has ended", pid)
	}
	fd, err := unix.Openat(dfd, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the container's process %d: open its root: %w", pid, err)
	}
	return fd, nil
}
