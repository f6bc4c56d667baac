package ns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Entry is one namespace of a process.
type Entry struct {
	Type    string // cgroup, ipc, mnt, net, pid, pid_for_children, ...
	Inode   uint64 // names the namespace: same inode, same namespace
	Shared  bool   // the same namespace as PID 1 of the host
	Unknown bool   // PID 1's namespace could not be read (from inside a user namespace)
}

// Show lists the namespaces of process pid (0 = this process), reading
// /proc/PID/ns/: each entry is a magic link like "net:[4026531840]", and
// two processes are in the same namespace when the numbers match. PID 1
// stands for the host (as seen from this process's /proc). Where PID 1's
// links may not be read (a hardened init), PID 2 stands in when it is
// kthreadd: kernel threads always live in the initial namespaces.
func Show(pid int) ([]Entry, error) {
	dir := "/proc/self/ns"
	if pid != 0 {
		dir = fmt.Sprintf("/proc/%d/ns", pid)
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return nil, fmt.Errorf("process %d: no such process", pid)
		}
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []Entry
	for _, n := range names {
		ino, err := inode(dir + "/" + n.Name())
		if err != nil {
			return nil, err
		}
		host, err := hostInode(n.Name())
		if err != nil && !errors.Is(err, os.ErrPermission) {
			return nil, err
		}
		out = append(out, Entry{Type: n.Name(), Inode: ino, Shared: err == nil && ino == host, Unknown: err != nil})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out, nil
}

// hostInode returns the inode of the host's namespace of a type.
func hostInode(name string) (uint64, error) {
	ino, err := inode("/proc/1/ns/" + name)
	if err == nil || !errors.Is(err, os.ErrPermission) {
		return ino, err
	}
	if comm, cerr := os.ReadFile("/proc/2/comm"); cerr == nil && strings.TrimSpace(string(comm)) == "kthreadd" {
		if ino, kerr := inode("/proc/2/ns/" + name); kerr == nil {
			return ino, nil
		}
	}
	return 0, err
}

// inode reads the namespace number from a /proc/PID/ns link.
func inode(link string) (uint64, error) {
	target, err := os.Readlink(link)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", link, err)
	}
	// "net:[4026531840]"
	_, num, ok := strings.Cut(target, ":[")
	if !ok {
		return 0, fmt.Errorf("read %s: unexpected link %q", link, target)
	}
	return strconv.ParseUint(strings.TrimSuffix(num, "]"), 10, 64)
}

// PrintEntries writes entries as a table.
func PrintEntries(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tINODE\tHOST (PID 1)")
	for _, e := range entries {
		state := "private"
		switch {
		case e.Unknown:
			state = "unknown (PID 1 not readable)"
		case e.Shared:
			state = "shared"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Type, e.Inode, state)
	}
	return tw.Flush()
}
