package cgroup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"mini-docker/cgroupctl/cgroup/devicefilter"
	"mini-docker/internal/testenv"
)

// TestAPIOnRealKernel drives the API mini-docker uses, on this host's
// real cgroups: Create with limits, Join a process, Stats, Paths, and the
// undo, which kills the process and leaves nothing behind. It runs in
// the tree runc would use (v1 on a hybrid host) and in the cgroup2 tree.
func TestAPIOnRealKernel(t *testing.T) {
	for name, h := range realTrees(t) {
		t.Run(name, func(t *testing.T) {
			parent := fmt.Sprintf("mini-docker-test-%d-api-%s", os.Getpid(), name)
			r := Resources{Memory: 64 << 20, PidsLimit: 64}
			if !h.Has("memory") || !h.Has("pids") {
				r = Resources{} // the v2 tree of a hybrid host offers no controller
			}
			g, undo, err := Create(h, parent, "api", r, nil)
			if err != nil {
				t.Fatal(err)
			}
			sleeper := exec.Command("sleep", "60")
			if err := sleeper.Start(); err != nil {
				undo()
				t.Fatal(err)
			}
			defer sleeper.Process.Kill()
			if err := g.Join(sleeper.Process.Pid, nil); err != nil {
				undo()
				t.Fatal(err)
			}
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", sleeper.Process.Pid))
			if !strings.Contains(string(b), "/"+parent+"/api\n") {
				t.Errorf("/proc/PID/cgroup does not show the group:\n%s", b)
			}
			s, err := g.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Procs) != 1 || s.Procs[0] != sleeper.Process.Pid {
				t.Errorf("procs = %v, want [%d]", s.Procs, sleeper.Process.Pid)
			}
			if s.CPU == nil {
				t.Error("no CPU statistics (cpu.stat / cpuacct.usage)")
			}
			if r.Memory != 0 && (s.Memory == nil || s.Memory.Limit != r.Memory || s.Pids.Max != r.PidsLimit) {
				t.Errorf("limits read back: memory %+v pids %+v", s.Memory, s.Pids)
			}
			for c, d := range g.Paths() {
				if _, err := os.Stat(d); err != nil {
					t.Errorf("path for %q: %v", c, err)
				}
			}
			if err := undo(); err != nil {
				t.Fatal(err)
			}
			for _, d := range append(g.Dirs(), g.MadeParents()...) {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("undo left %s", d)
				}
			}
			if err := sleeper.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Errorf("sleeper after undo: %v, want killed", err)
			}
			if _, err := Open(h, parent, "api"); err == nil {
				t.Error("Open finds the group after undo")
			}
		})
	}
}

// realTrees are the hosts a test runs in: the tree runc would use
// ("auto": v1 on a hybrid host), and the cgroup2 tree ("v2") when that
// is another.
func realTrees(t *testing.T) map[string]*Host {
	testenv.Integration(t)
	host, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	trees := map[string]*Host{"auto": host}
	if host.V2Root != "" && host.Driver != V2 {
		if trees["v2"], err = host.UseV2(""); err != nil {
			t.Fatal(err)
		}
	}
	return trees
}

// TestDetectMatchesStatfs cross-checks the mode read from mountinfo with
// the file system types, the way runc decides: /sys/fs/cgroup itself a
// cgroup2 mount is v2; a cgroup2 mount at /sys/fs/cgroup/unified under it
// is hybrid; otherwise v1.
func TestDetectMatchesStatfs(t *testing.T) {
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	const cgroup2Magic = 0x63677270
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Skip("no /sys/fs/cgroup:", err)
	}
	want := V1
	if st.Type == cgroup2Magic {
		want = V2
	} else if err := syscall.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == cgroup2Magic {
		want = Hybrid
	}
	if h.Mode != want {
		t.Errorf("Detect() says %s, statfs says %s", h.Mode, want)
	}
	if h.Mode != V2 && h.Driver != V1 {
		t.Errorf("on a %s host groups must go to v1 (like runc), Driver = %s", h.Mode, h.Driver)
	}
}

// TestJoinEveryHierarchy is what a learner sees in /proc/PID/cgroup after
// joining on a v1 or hybrid host: the group in every line (devices,
// blkio, name=systemd and the cgroup2 "0::" line too, as under Docker),
// and with Devices "docker" the devices controller's list is Docker's:
// /dev/null opens, a disk's device node does not. Delete removes the
// group from every tree.
func TestJoinEveryHierarchy(t *testing.T) {
	testenv.Integration(t)
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if h.Driver != V1 {
		t.Skip("the host makes groups in cgroup v2: one tree only")
	}
	parent := fmt.Sprintf("mini-docker-test-%d-every", os.Getpid())
	g, undo, err := Create(h, parent, "every", Resources{PidsLimit: 64, Devices: "docker"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := undo(); err != nil {
			t.Error(err)
		}
		for _, d := range g.Dirs() {
			if _, err := os.Stat(filepath.Dir(d)); err == nil {
				t.Errorf("%s left behind", filepath.Dir(d))
			}
		}
	}()
	// mknod needs no access to the device; opening it does.
	dir := t.TempDir()
	script := `cat /proc/self/cgroup; mknod ` + dir + `/disk b 8 0 && { head -c1 ` + dir + `/disk >/dev/null 2>&1 && echo disk-open || echo disk-denied; }; cat /dev/null && echo null-ok`
	out := runIn(t, g, script)
	want := "/" + parent + "/every"
	lines := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		lines++
		if parts[1] == "" && h.Mode != Hybrid {
			continue
		}
		if parts[2] != want {
			t.Errorf("/proc/self/cgroup line %q: want the group %s in every hierarchy", l, want)
		}
	}
	if lines != len(h.Hierarchies)+map[bool]int{true: 1, false: 0}[h.V2Root != ""] {
		t.Errorf("%d lines in /proc/self/cgroup, %d hierarchies mounted\n%s", lines, len(h.Hierarchies), out)
	}
	if !strings.Contains(out, "disk-denied") || !strings.Contains(out, "null-ok") {
		t.Errorf("want a disk denied and /dev/null allowed by Docker's device rules, got\n%s", out)
	}
	list := read(t, filepath.Join(h.V1["devices"], parent, "every", "devices.list"))
	if got, want := strings.Split(strings.TrimSpace(list), "\n"), devicefilter.DockerRules; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("devices.list:\n%s\nwant Docker's:\n%s", list, strings.Join(want, "\n"))
	}
}

// runIn runs the shell script in a process moved into g before it
// starts the script, and returns what it printed.
func runIn(t *testing.T, g *Group, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read _; "+script)
	stdin, _ := cmd.StdinPipe()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.Join(cmd.Process.Pid, nil); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return out.String()
}

// TestDeleteEmptyGroupKeepsSharedParent deletes groups no process is
// in, the way a container's group ends: the first of two siblings goes
// and their parent stays, since the other still lives in it; the second
// takes the parent with it.
func TestDeleteEmptyGroupKeepsSharedParent(t *testing.T) {
	for name, h := range realTrees(t) {
		t.Run(name, func(t *testing.T) {
			parent := fmt.Sprintf("mini-docker-test-%d-siblings-%s", os.Getpid(), name)
			a, undoA, err := Create(h, parent, "a", Resources{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, undoB, err := Create(h, parent, "b", Resources{}, nil)
			if err != nil {
				undoA()
				t.Fatal(err)
			}
			if err := a.Delete(true, nil); err != nil {
				undoB()
				t.Fatal(err)
			}
			for i, d := range a.Dirs() {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("delete of a left %s", d)
				}
				if _, err := os.Stat(b.Dirs()[i]); err != nil {
					t.Errorf("delete of a took its sibling: %v", err)
				}
			}
			if err := undoB(); err != nil {
				t.Fatal(err)
			}
			for _, d := range b.Dirs() {
				if _, err := os.Stat(filepath.Dir(d)); err == nil {
					t.Errorf("delete of the last group left its parent %s", filepath.Dir(d))
				}
			}
			if err := a.Delete(true, nil); !errors.Is(err, ErrNotFound) {
				t.Errorf("delete of a deleted group: %v, want ErrNotFound", err)
			}
		})
	}
}
