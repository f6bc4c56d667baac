package cgroup

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNestedParentOnRealKernel makes a group several levels below an
// existing group, as an OCI bundle's relative cgroupsPath asks
// (testdir/cgrouptest/container): every missing level is made in every
// tree, a process joined shows the whole path in /proc/PID/cgroup, and
// Delete told what Create made removes those levels and not the one
// that was there.
// Then the same below a Base (the runtime's own group, for runc), and a
// Delete that was not told what was made (cgroupctl delete --parent
// a/b/c) removes each level left empty. It runs in the tree runc would
// use (v1 on a hybrid host) and in the cgroup2 tree.
func TestNestedParentOnRealKernel(t *testing.T) {
	for name, h := range realTrees(t) {
		t.Run(name, func(t *testing.T) {
			top := fmt.Sprintf("mini-docker-test-%d-nest-%s", os.Getpid(), name)
			held, undoHeld, err := Create(h, "", top, Resources{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if held.Exists() { // the last step removes it when it passes
					undoHeld()
				}
				for _, d := range held.Dirs() {
					if _, err := os.Stat(d); err == nil {
						t.Errorf("%s left behind", d)
					}
				}
			}()
			r := Resources{PidsLimit: 64}
			if !h.Has("pids") {
				r = Resources{} // the v2 tree of a hybrid host offers no controller
			}
			g, undo, err := Create(h, top+"/testdir/cgrouptest", "container", r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.MadeParents()) != 2*len(g.Dirs()) {
				t.Errorf("MadeParents = %v, want testdir/cgrouptest and testdir in each of %d trees", g.MadeParents(), len(g.Dirs()))
			}
			g.Made = g.MadeParents() // only those: as an OCI runtime deletes
			joinAndCheck(t, g, "/"+top+"/testdir/cgrouptest/container", undo)
			if err := undo(); err != nil {
				t.Fatal(err)
			}
			for _, d := range g.Dirs() {
				if _, err := os.Stat(filepath.Dir(filepath.Dir(d))); err == nil {
					t.Errorf("delete left %s, which create made", filepath.Dir(filepath.Dir(d)))
				}
			}
			if !held.Exists() {
				t.Fatalf("delete removed %s, which was there before", top)
			}

			// Below a base: the group lands under it in every tree.
			base := map[string]string{}
			for _, mp := range held.trees() {
				base[mp] = "/" + top
			}
			g, undo, err = CreateIn(h, base, "rel", "c", r, nil)
			if err != nil {
				t.Fatal(err)
			}
			joinAndCheck(t, g, "/"+top+"/rel/c", undo)
			if err := undo(); err != nil {
				t.Fatal(err)
			}
			if !held.Exists() {
				t.Fatalf("delete removed the base %s", top)
			}

			// Not told what was made: every level of the parent left
			// empty goes, top too (it is a level of the parent here).
			if _, _, err = Create(h, top+"/a/b", "c", r, nil); err != nil {
				t.Fatal(err)
			}
			opened, err := Open(h, top+"/a/b", "c")
			if err != nil {
				t.Fatal(err)
			}
			if err := opened.Delete(false, nil); err != nil {
				t.Fatal(err)
			}
			for _, d := range held.Dirs() {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("delete of %s/a/b/c left %s (empty)", top, d)
				}
			}
		})
	}
}

// joinAndCheck starts a process, joins it to g and checks that
// /proc/PID/cgroup shows want in every tree g lives in.
func joinAndCheck(t *testing.T, g *Group, want string, undo func() error) {
	t.Helper()
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		undo()
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	if err := g.Join(sleeper.Process.Pid, nil); err != nil {
		undo()
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", sleeper.Process.Pid))
	if n := strings.Count(string(b), ":"+want+"\n"); n < len(g.Dirs()) {
		t.Errorf("/proc/PID/cgroup shows %s in %d lines, want %d (one per tree):\n%s", want, n, len(g.Dirs()), b)
	}
}

func TestNestedParentRefused(t *testing.T) {
	h, err := Parse([]byte(hybridMountinfo), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "a/", "a//b", "..", "a/../b", "a/./b", "../../etc", ".a/b", "a/b c"} {
		if _, err := New(h, p, "x"); err == nil || !strings.Contains(err.Error(), "invalid parent cgroup") {
			t.Errorf("New(parent %q) = %v, want refused", p, err)
		}
	}
	g, err := New(h, "testdir/cgrouptest", "container")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Dirs()[0]; got != "/sys/fs/cgroup/cpu/testdir/cgrouptest/container" {
		t.Errorf("Dirs()[0] = %s", got)
	}
	if got := parentLevels("/sys/fs/cgroup/cpu", g.Dirs()[0]); strings.Join(got, " ") != "/sys/fs/cgroup/cpu/testdir /sys/fs/cgroup/cpu/testdir/cgrouptest" {
		t.Errorf("parentLevels = %v", got)
	}
}

// FuzzValidParent holds the parent check to what it guards: a valid
// parent is names joined by '/', and joined to a directory it stays
// below it, unchanged by Clean (no "..", ".", "//" or leading '/').
func FuzzValidParent(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$`)
	for _, s := range []string{"", "a", "a/b", "testdir/cgrouptest", "/a", "a/", "a//b", "..", "a/../b", "a/./b", "a/.b", "a\n/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := validParent(s)
		if want := s == "" || re.MatchString(s); ok != want {
			t.Fatalf("validParent(%q) = %v, the regexp says %v", s, ok, want)
		}
		if ok && s != "" {
			j := "/base/" + s
			if filepath.Clean(j) != j || !strings.HasPrefix(j, "/base/") {
				t.Fatalf("valid parent %q leaves or changes its base: %s", s, filepath.Clean(j))
			}
		}
	})
}
