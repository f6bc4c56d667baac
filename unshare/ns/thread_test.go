package ns

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestEnterThread: a process started from a thread that joined a
// process's namespaces (new UTS, IPC, mount and PID ones here) is in each
// of them, and in its working directory; the rest of the test process
// is not.
func TestEnterThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("joining namespaces needs root")
	}
	target := exec.Command("sleep", "60")
	target.Dir = "/tmp"
	target.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID}
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Process.Kill(); target.Wait() })
	// The child reports what it is in: its namespaces (the PID one is
	// its children's) and its directory. /proc is the host's, where the
	// child's own PID is not $$: readlink reads its own, inherited.
	script := "readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/mnt /proc/self/ns/pid_for_children; pwd"
	done := make(chan string, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := EnterThread(target.Process.Pid); err != nil {
			done <- "error: " + err.Error()
			return
		}
		out, err := exec.Command("sh", "-c", script).CombinedOutput()
		if err != nil {
			done <- fmt.Sprintf("error: %v: %s", err, out)
			return
		}
		done <- string(out)
	}()
	got := <-done
	var want []string
	for _, n := range []string{"uts", "ipc", "mnt", "pid"} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", target.Process.Pid, n))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, l)
		if own, _ := os.Readlink("/proc/thread-self/ns/" + n); own == l {
			t.Errorf("the test process is in the target's %s namespace too", n)
		}
	}
	want = append(want, "/tmp")
	if got != strings.Join(want, "\n")+"\n" {
		t.Errorf("started from the joined thread:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}
