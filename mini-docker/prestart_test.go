package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/container"
)

// TestEarlyStart: a foreground run starts its container's first process
// before it has recorded the container (launch.Prestart), in a cgroup
// made early for the ID the container then gets. The container is the
// same as one started the usual way (-t still starts that way): its
// environment, network namespace and cgroup; a run refused after the
// early start leaves nothing; and the group of a run killed before it
// recorded the container is swept by the next run, but not the group of
// a run still going.
func TestEarlyStart(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	probe := `echo "env=$(env | sort | tr '\n' ' ')"; echo "net=$(readlink /proc/self/ns/net)"; ` +
		`echo "cg=$(grep -c /mini-docker/ /proc/self/cgroup)"; echo "host=$(hostname)"`
	run := func(extra ...string) map[string]string {
		t.Helper()
		args := append(append([]string{"run", "--rm", "-e", "X=1", "--hostname", "box"}, extra...), ref, "sh", "-c", probe)
		out := h.must(args...)
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(strings.ReplaceAll(out, "\r", "")), "\n") {
			k, v, _ := strings.Cut(l, "=")
			got[k] = v
		}
		return got
	}
	early, usual := run("--network", "none"), run("--network", "none", "-t")
	// The namespace playing the host's, which mini-docker runs in.
	var st syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+h.netns, &st); err != nil {
		t.Fatal(err)
	}
	hostNet := fmt.Sprintf("net:[%d]", st.Ino)
	usual["env"] = strings.Replace(usual["env"], "TERM=xterm ", "", 1) // -t's
	if early["env"] != usual["env"] || !strings.Contains(early["env"], "X=1") {
		t.Errorf("environment started early %q, usually %q", early["env"], usual["env"])
	}
	if early["net"] == "" || early["net"] == hostNet {
		t.Errorf("network namespace started early %q: not the container's own (the host's is %s)", early["net"], hostNet)
	}
	if early["cg"] != usual["cg"] || early["host"] != "box" {
		t.Errorf("started early: %d group(s) of the container, hostname %q; usually %d, %q", atoi(early["cg"]), early["host"], atoi(usual["cg"]), usual["host"])
	}
	if got := run("--network", "host"); got["net"] != hostNet {
		t.Errorf("--network host started early: namespace %s, want the host's %s", got["net"], hostNet)
	}
	h.must("run", "--name", "taken", "--network", "none", ref, "true")
	if _, errOut, code := h.md("run", "--name", "taken", "--network", "none", ref, "true"); code != 125 || !strings.Contains(errOut, "Conflict") {
		t.Errorf("a second run named taken: exit %d %s", code, errOut)
	}
	h.must("rm", "taken")

	// A run killed between its early start and its container's state:
	// its record names a process that is gone. One still going is left.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	cgroupctl := testenv.Bin(t, "cgroupctl")
	self, err := container.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	killed, going := earlyGroup(t, h, cgroupctl, dead.Process.Pid, 0, ""), earlyGroup(t, h, cgroupctl, os.Getpid(), self, "")
	// Killed after it recorded its container, before the container's
	// state recorded the group: the container must still start.
	half := strings.TrimSpace(h.must("create", "--network", "none", ref, "sleep", "60"))
	earlyGroup(t, h, cgroupctl, dead.Process.Pid, 0, half)
	h.must("run", "--rm", "--network", "none", ref, "true")
	for _, id := range []string{killed, half} {
		if dirs := groupDirs(id); len(dirs) > 0 {
			t.Errorf("the early group of a killed run is still there: %v", dirs)
		}
	}
	h.must("start", half)
	h.must("rm", "-f", half)
	if _, err := os.Stat(filepath.Join(h.root, "early", killed)); err == nil {
		t.Error("the record of a killed run's early group is still there")
	}
	if len(groupDirs(going)) == 0 {
		t.Error("the next run removed the early group of a run still going")
	}
	exec.Command(cgroupctl, "delete", going, "--parent", "mini-docker").Run()
	os.Remove(filepath.Join(h.root, "early", going))
	h.assertNoLeaks()
}

// earlyGroup makes what a run that started early leaves when it is
// killed before its container's state records the group: the record
// naming owner, and the group, for id (a new ID when "").
func earlyGroup(t *testing.T, h *harness, cgroupctl string, owner int, start uint64, id string) string {
	t.Helper()
	if id == "" {
		b := make([]byte, 32)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	os.MkdirAll(filepath.Join(h.root, "early"), 0o700)
	if err := os.WriteFile(filepath.Join(h.root, "early", id), fmt.Appendf(nil, "%d %d\n", owner, start), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cgroupctl, "create", id, "--parent", "mini-docker").CombinedOutput(); err != nil {
		t.Fatalf("cgroupctl create: %v %s", err, out)
	}
	return id
}

func groupDirs(id string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/mini-docker/" + id)
	more, _ := filepath.Glob("/sys/fs/cgroup/mini-docker/" + id)
	return append(dirs, more...)
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// schedPolicy prints the scheduling policy of the program that runs it
// inside the container ("0" SCHED_OTHER, "3" SCHED_BATCH): field 41 of
// /proc/PID/stat, which every kernel has (/proc/PID/sched needs
// CONFIG_SCHED_DEBUG).
const schedPolicy = `awk '{print $41}' /proc/self/stat`

// statPolicy is field 41 of a /proc/PID/stat (or task) file, counted
// after the command's name, which may hold spaces; "" if unreadable.
func statPolicy(path string) string {
	b, err := os.ReadFile(path)
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return ""
	}
	if f := strings.Fields(string(b[i+1:])); len(f) > 38 {
		return f[38] // field 3 is f[0]
	}
	return ""
}

// Done when: run's own threads are SCHED_BATCH while it starts a
// container (launch.BatchThreads), and the container's processes keep
// the default policy, SCHED_OTHER, whatever path starts them: the early
// child, the chain of tools, a detached container's monitor, and exec.
func TestContainersKeepTheDefaultSchedulingPolicy(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	for _, args := range [][]string{
		{"run", "--rm", "--network", "none", ref, "sh", "-c", schedPolicy},
		{"run", "--rm", "--network", "none", "--tool-chain", ref, "sh", "-c", schedPolicy},
	} {
		if out, errOut, code := h.host(args...); code != 0 || strings.TrimSpace(out) != "0" {
			t.Errorf("%v: policy %q (exit %d), want 0 (SCHED_OTHER)\n%s", args, out, code, errOut)
		}
	}
	h.mustHost("run", "-d", "--name", "pol", "--network", "none", ref, "sleep", "300")
	if out, _, _ := h.host("exec", "pol", "sh", "-c", schedPolicy+"; awk '{print $41}' /proc/1/stat"); out != "0\n0\n" {
		t.Errorf("a detached container's PID 1 and an exec'd process: policies %q, want 0 and 0", out)
	}
	// run itself, while its container runs.
	cmd := h.command(false, "run", "--rm", "--network", "none", ref, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	batch := 0
	for deadline := time.Now().Add(time.Minute); batch == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", cmd.Process.Pid))
		for _, p := range tasks {
			if statPolicy(p) == "3" {
				batch++
			}
		}
	}
	if batch == 0 {
		t.Errorf("no thread of mini-docker run is SCHED_BATCH")
	}
}
