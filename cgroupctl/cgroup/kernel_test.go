package cgroup

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"mini-docker/internal/testenv"
)

// TestAPIOnRealKernel drives the API mini-docker uses, on this host's
// real cgroups: Create with limits, Join a process, Stats, Paths, and the
// undo, which kills the process and leaves nothing behind. It runs in
// the tree runc would use (v1 on a hybrid host) and in the cgroup2 tree.
func TestAPIOnRealKernel(t *testing.T) {
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
	for name, h := range trees {
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
			for _, d := range append(g.Dirs(), g.parentDirs()...) {
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
