package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// TestExitedSeesTheEndWithoutReaping: exited must tell a live child from
// one that ended, and leave the ended one for Wait.
func TestExitedSeesTheEndWithoutReaping(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if exited(cmd.Process.Pid) {
		t.Fatal("exited() = true for a running child")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !exited(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("exited() never saw the child end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("Wait after exited(): %v (exited must not reap)", err)
	}
}

// The container's first program is exec'd through a read-only bind
// mount attached nowhere: writing the file through the descriptor (as
// through /proc/PID/exe) fails, and no mount is left behind.
func TestReadOnlyExecutable(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "prog")
	b, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile("/proc/self/mountinfo")
	f, err := ReadOnlyExecutable(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fdPath := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if w, err := os.OpenFile(fdPath, os.O_WRONLY, 0); err == nil {
		w.Close()
		t.Fatalf("opened %s for writing through the read-only descriptor", p)
	} else if !errors.Is(err, syscall.EROFS) {
		t.Errorf("write open: %v, want EROFS", err)
	}
	if out, err := exec.Command(fdPath, "hi").Output(); err != nil || string(out) != "hi\n" {
		t.Errorf("exec through the descriptor: %q %v", out, err)
	}
	// Other packages' tests mount and unmount while this one runs (go
	// test runs packages in parallel), so only mounts of this test's
	// folder count: a bind of prog would show it as its root (relative to
	// its file system, so only the folder's unique name is matched) or as
	// its mount point.
	after, _ := os.ReadFile("/proc/self/mountinfo")
	name := filepath.Base(filepath.Dir(dir))
	if left := mountsOf(before, name); left != "" {
		t.Fatalf("mounts of %s before the test:\n%s", dir, left)
	}
	if left := mountsOf(after, name); left != "" {
		t.Errorf("a mount of %s is left behind:\n%s", dir, left)
	}
}

// mountsOf returns the lines of a mount table that contain name.
func mountsOf(table []byte, name string) string {
	var out []string
	for _, l := range strings.Split(string(table), "\n") {
		if strings.Contains(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
