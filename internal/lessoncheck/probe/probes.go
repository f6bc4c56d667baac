// Package probe reads the state of the system that the workshop's
// exercises leave (lessons 01 to 15): files under /proc and /sys, the
// mount table, cgroup files, links and counters of a network namespace,
// the processes and their namespaces. Every function only looks: what it
// enters with setns(2) it enters on a thread of its own. Package
// lessoncheck builds each exercise's checks from them.
package probe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/procfs"
)

// The probes below only read. Each returns an error that reads as the
// end of a ✗ line: "pids.max of mine is 50: it is max".

// ReadTrim reads a small file and trims its trailing newline.
func ReadTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", NotThere(err)
	}
	return strings.TrimSpace(string(b)), nil
}

// NotThere shortens the common errors to what a learner needs to read.
func NotThere(err error) error {
	var pe *os.PathError
	switch {
	case errors.Is(err, os.ErrNotExist):
		if errors.As(err, &pe) {
			return fmt.Errorf("%s does not exist", pe.Path)
		}
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w (run the check as root: sudo)", err)
	}
	return err
}

// FileIs checks that a file holds want (trimmed).
func FileIs(path, want string) error {
	got, err := ReadTrim(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("it is %q", got)
	}
	return nil
}

// IntOf reads a file holding one integer.
func IntOf(path string) (int64, error) {
	got, err := ReadTrim(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(got, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a number", path, got)
	}
	return n, nil
}

// Keyed reads a "key value" line file (pids.events, memory.events,
// cgroup.events, memory.oom_control) and returns the value of key.
func Keyed(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, NotThere(err)
	}
	v, ok := ParseKeyed(string(b))[key]
	if !ok {
		return 0, fmt.Errorf("%s has no %s line", path, key)
	}
	return v, nil
}

// ParseKeyed parses lines "key number"; others are left out.
func ParseKeyed(text string) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			out[f[0]] = n
		}
	}
	return out
}

// ProcsIn lists the PIDs in a group's cgroup.procs.
func ProcsIn(group string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(group, "cgroup.procs"))
	if err != nil {
		return nil, NotThere(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// HasProcess checks that at least one process is in a group.
func HasProcess(group string) error {
	pids, err := ProcsIn(group)
	if err != nil {
		return err
	}
	if len(pids) == 0 {
		return fmt.Errorf("%s/cgroup.procs is empty", group)
	}
	return nil
}

// IsDir checks that a path is a directory.
func IsDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return NotThere(err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}

// FileContains checks that a file exists and holds text.
func FileContains(path, text string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return NotThere(err)
	}
	if !strings.Contains(string(b), text) {
		return fmt.Errorf("%s does not contain %q", path, text)
	}
	return nil
}

// Proc is a process as /proc shows it.
type Proc struct {
	PID    int
	Status map[string]string // /proc/PID/status
}

// Processes lists every process with its status; processes that end
// while being read are left out.
func Processes() []Proc {
	var out []Proc
	for _, pid := range procfs.PIDs() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		out = append(out, Proc{PID: pid, Status: ParseStatus(string(b))})
	}
	return out
}

// ParseStatus parses /proc/PID/status: "Name:\tsleep", "NSpid:\t812\t1".
// A process names itself (prctl PR_SET_NAME), so the text is untrusted:
// only the first colon splits.
func ParseStatus(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// NsPID is the process's PID in its own (innermost) PID namespace: the
// last field of NSpid.
func (p Proc) NsPID() string {
	f := strings.Fields(p.Status["NSpid"])
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// Caps parses a capability mask line of status (CapEff, CapBnd, ...).
func (p Proc) Caps(set string) uint64 {
	v, _ := strconv.ParseUint(p.Status[set], 16, 64)
	return v
}

// UID is the real UID (the first of the Uid line).
func (p Proc) UID() string {
	f := strings.Fields(p.Status["Uid"])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Ns returns the namespace a process is in, "uts:[4026531838]".
func Ns(pid int, kind string) string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	return l
}

// OwnNS reports whether pid is in another namespace of kind than the
// checker.
func OwnNS(pid int, kind string) bool {
	theirs := Ns(pid, kind)
	return theirs != "" && theirs != Ns(os.Getpid(), kind)
}

// InNamespace runs fn on a thread that first enters the namespace of
// kind (CLONE_NEWUTS, CLONE_NEWNET, ...) found at path (/proc/PID/ns/uts,
// /run/netns/NAME, a bind-mounted ns file), and goes back afterwards.
// setns only changes the calling thread, never anything outside the
// checker. A thread that cannot go back stays locked, and Go ends it
// with its goroutine (or, for the main thread, never runs Go code on it
// again).
func InNamespace(path string, kind int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/" + NsNames[kind])
		if err != nil {
			errc <- err
			return
		}
		defer back.Close()
		f, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- NotThere(err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), kind); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", path, NotThere(err))
			return
		}
		err = fn()
		if unix.Setns(int(back.Fd()), kind) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

var NsNames = map[int]string{unix.CLONE_NEWUTS: "uts", unix.CLONE_NEWNET: "net"}

// HostnameIn returns the host name of the UTS namespace at path.
func HostnameIn(path string) (string, error) {
	var name string
	err := InNamespace(path, unix.CLONE_NEWUTS, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		name = unix.ByteSliceToString(u.Nodename[:])
		return nil
	})
	return name, err
}

// HostnameOf returns the host name of pid's UTS namespace.
func HostnameOf(pid int) (string, error) {
	return HostnameIn(fmt.Sprintf("/proc/%d/ns/uts", pid))
}

// OwnHostname reports whether pid is in a UTS namespace of its own whose
// host name is name: how a search tells the learner's container from
// every other process.
func OwnHostname(pid int, name string) bool {
	if !OwnNS(pid, "uts") {
		return false
	}
	got, err := HostnameOf(pid)
	return err == nil && got == name
}

// PID1 checks that p is PID 1 of a PID namespace of its own, as every
// container's first process is.
func (p Proc) PID1() error {
	if !OwnNS(p.PID, "pid") || p.NsPID() != "1" {
		return fmt.Errorf("it is not PID 1 of a PID namespace of its own (NSpid %q)", p.Status["NSpid"])
	}
	return nil
}

// ProcOf reads one process's status.
func ProcOf(pid int) (Proc, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Proc{}, NotThere(err)
	}
	return Proc{PID: pid, Status: ParseStatus(string(b))}, nil
}

// SameFile reports whether two paths are the same inode (a process's
// /proc/PID/root and a folder, say).
func SameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// ErrSkip marks a process that is not even a candidate.
var ErrSkip = errors.New("not a candidate")
