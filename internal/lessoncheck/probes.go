package lessoncheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
)

// The probes below only read. Each returns an error that reads as the
// end of a ✗ line: "pids.max of mine is 50: it is max".

// path resolves a path of the exercise against the scratch folder.
func (s *State) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// readTrim reads a small file and trims its trailing newline.
func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", notThere(err)
	}
	return strings.TrimSpace(string(b)), nil
}

// notThere shortens the common errors to what a learner needs to read.
func notThere(err error) error {
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

// cgroupDir is where groups with controller ctrl are made on this host:
// the cgroup2 root on v2, the controller's v1 hierarchy on v1 and hybrid
// hosts (as cgroupctl and Docker do there).
func (s *State) cgroupDir(ctrl string) string {
	if s.Cgroup == nil {
		return "/sys/fs/cgroup"
	}
	if s.Cgroup.Mode == cgroup.V2 {
		return s.Cgroup.V2Root
	}
	if p := s.Cgroup.V1[ctrl]; p != "" {
		return p
	}
	return filepath.Join("/sys/fs/cgroup", ctrl)
}

// v2 reports whether groups live in the unified tree.
func (s *State) v2() bool { return s.Cgroup != nil && s.Cgroup.Mode == cgroup.V2 }

// fileIs checks that a file holds want (trimmed).
func fileIs(path, want string) error {
	got, err := readTrim(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("it is %q", got)
	}
	return nil
}

// intOf reads a file holding one integer.
func intOf(path string) (int64, error) {
	got, err := readTrim(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(got, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a number", path, got)
	}
	return n, nil
}

// keyed reads a "key value" line file (pids.events, memory.events,
// cgroup.events, memory.oom_control) and returns the value of key.
func keyed(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, notThere(err)
	}
	v, ok := parseKeyed(string(b))[key]
	if !ok {
		return 0, fmt.Errorf("%s has no %s line", path, key)
	}
	return v, nil
}

// parseKeyed parses lines "key number"; others are left out.
func parseKeyed(text string) map[string]int64 {
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

// procsIn lists the PIDs in a group's cgroup.procs.
func procsIn(group string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(group, "cgroup.procs"))
	if err != nil {
		return nil, notThere(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// hasProcess checks that at least one process is in a group.
func hasProcess(group string) error {
	pids, err := procsIn(group)
	if err != nil {
		return err
	}
	if len(pids) == 0 {
		return fmt.Errorf("%s/cgroup.procs is empty", group)
	}
	return nil
}

// isDir checks that a path is a directory.
func isDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return notThere(err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	return nil
}

// fileContains checks that a file exists and holds text.
func fileContains(path, text string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return notThere(err)
	}
	if !strings.Contains(string(b), text) {
		return fmt.Errorf("%s does not contain %q", path, text)
	}
	return nil
}

// proc is a process as /proc shows it.
type proc struct {
	PID    int
	Status map[string]string // /proc/PID/status
}

// processes lists every process with its status; processes that end
// while being read are left out.
func processes() []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		out = append(out, proc{PID: pid, Status: parseStatus(string(b))})
	}
	return out
}

// parseStatus parses /proc/PID/status: "Name:\tsleep", "NSpid:\t812\t1".
// A process names itself (prctl PR_SET_NAME), so the text is untrusted:
// only the first colon splits.
func parseStatus(text string) map[string]string {
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

// nsPID is the process's PID in its own (innermost) PID namespace: the
// last field of NSpid.
func (p proc) nsPID() string {
	f := strings.Fields(p.Status["NSpid"])
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// caps parses a capability mask line of status (CapEff, CapBnd, ...).
func (p proc) caps(set string) uint64 {
	v, _ := strconv.ParseUint(p.Status[set], 16, 64)
	return v
}

// uid is the real UID (the first of the Uid line).
func (p proc) uid() string {
	f := strings.Fields(p.Status["Uid"])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// ns returns the namespace a process is in, "uts:[4026531838]".
func ns(pid int, kind string) string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	return l
}

// ownNS reports whether pid is in another namespace of kind than the
// checker.
func ownNS(pid int, kind string) bool {
	theirs := ns(pid, kind)
	return theirs != "" && theirs != ns(os.Getpid(), kind)
}

// inNamespace runs fn on a thread that first enters the namespace of
// kind (CLONE_NEWUTS, CLONE_NEWNET, ...) found at path (/proc/PID/ns/uts,
// /run/netns/NAME, a bind-mounted ns file), and goes back afterwards.
// setns only changes the calling thread, never anything outside the
// checker. A thread that cannot go back stays locked, and Go ends it
// with its goroutine (or, for the main thread, never runs Go code on it
// again).
func inNamespace(path string, kind int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/" + nsNames[kind])
		if err != nil {
			errc <- err
			return
		}
		defer back.Close()
		f, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- notThere(err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), kind); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", path, notThere(err))
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

var nsNames = map[int]string{unix.CLONE_NEWUTS: "uts", unix.CLONE_NEWNET: "net"}

// hostnameIn returns the host name of the UTS namespace at path.
func hostnameIn(path string) (string, error) {
	var name string
	err := inNamespace(path, unix.CLONE_NEWUTS, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		name = unix.ByteSliceToString(u.Nodename[:])
		return nil
	})
	return name, err
}

// sameFile reports whether two paths are the same inode (a process's
// /proc/PID/root and a folder, say).
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// errSkip marks a process that is not even a candidate.
var errSkip = errors.New("not a candidate")
