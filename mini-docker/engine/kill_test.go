package engine

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"mini-docker/mini-docker/container"
)

// TestKillAProcessThatJustEnded: a container recorded as running whose
// process has ended (its monitor not yet done recording it) is killed
// without error, as Docker's kill succeeds when the runtime finds the
// process gone; one recorded as not running is refused in Docker's words.
func TestKillAProcessThatJustEnded(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start, err := container.StartTime(pid)
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	e := &Engine{Root: root, Store: &container.Store{Root: root}}
	c := &container.Container{ID: strings.Repeat("a", 64), Name: "/ended"}
	c.State.Running, c.State.Pid, c.Runtime.PidStart = true, pid, start
	if err := e.Kill(c, syscall.SIGTERM); err != nil {
		t.Errorf("kill of a running container whose process just ended: %v, want no error", err)
	}
	c.State.Running = false
	err = e.Kill(c, syscall.SIGTERM)
	if want := "cannot kill container: ended: container " + c.ID + " is not running"; err == nil || err.Error() != want {
		t.Errorf("kill of a stopped container: %v, want %q", err, want)
	}
}
