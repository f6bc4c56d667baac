package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func runUnshare(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return testenv.Run(t, testenv.Bin(t, "unshare"), args...)
}

// TestPIDNamespace: the command is PID 1 and sees nothing of the host.
func TestPIDNamespace(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	out, code := runUnshare(t, "--pid", "--mount-proc", "--uts", "--hostname", "box", "--", "ps", "-o", "pid,comm")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[1]), " ") != "1 ps" {
		t.Fatalf("want only ps, as PID 1, got:\n%s", out)
	}
}

// TestHostname: the new UTS namespace has its own name; the host's stays.
func TestHostname(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	before, _ := os.Hostname()
	out, code := runUnshare(t, "--uts", "--hostname", "box", "--", "hostname")
	if code != 0 || out != "box\n" {
		t.Fatalf("want box, got %d: %q", code, out)
	}
	if after, _ := os.Hostname(); after != before {
		t.Fatalf("host name changed from %q to %q", before, after)
	}
}

// TestNetNamespace: a new network namespace holds only a loopback device.
func TestNetNamespace(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	testenv.RequireCommand(t, "ip")
	out, code := runUnshare(t, "--net", "--", "ip", "-o", "link")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "1: lo:") {
		t.Fatalf("want only lo, got %d:\n%s", code, out)
	}
}

// TestUnprivilegedUserNamespace: an ordinary user becomes root inside a
// user namespace of its own.
func TestUnprivilegedUserNamespace(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	bin := worldReadableCopy(t, testenv.Bin(t, "unshare"))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--user", "--map-root-user", "--", "id", "-u"}, "0\n"},
		{[]string{"--map-user", "1000", "--map-group", "1000", "--", "id", "-u"}, "1000\n"},
		{[]string{"--user", "--map-root-user", "--pid", "--mount-proc", "--uts", "--hostname", "box", "--", "sh", "-c", "id -g; hostname; echo $$"}, "0\nbox\n1\n"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, code := testenv.RunCmd(t, cmd)
		if code != 0 || out != c.want {
			t.Errorf("%v as nobody: want %q, got %d: %q", c.args, c.want, code, out)
		}
	}
	// Without --user, the same user may not create namespaces.
	cmd := exec.Command(bin, "--uts", "--", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, code := testenv.RunCmd(t, cmd)
	if code != 125 || !strings.Contains(out, "unshare: hint:") {
		t.Errorf("--uts as nobody: want 125 with a hint, got %d:\n%s", code, out)
	}
}

// TestJoinDebian: a process runs in a Debian rootfs behind chroot
// --pivot, in new namespaces; join enters them all, and its root.
func TestJoinDebian(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.DebianRootfs(t)
	// Host and image may both be Debian 12: mark the image's copy.
	osRelease := filepath.Join(root, "usr/lib/os-release")
	f, err := os.OpenFile(osRelease, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("MINI_DOCKER_TEST=inside-the-rootfs\n")
	f.Close()

	unshare, chroot := testenv.Bin(t, "unshare"), testenv.Bin(t, "chroot")
	c := startContainer(t, unshare, "--pid", "--mount", "--uts", "--ipc", "--hostname", "deb", "--",
		chroot, "--pivot", root, "--proc", "--dev", "--", "sleep", "300")

	out, code := runUnshare(t, "join", strconv.Itoa(c), "--", "sh", "-c", "cat /etc/os-release; hostname; ps -o pid,comm")
	if code != 0 {
		t.Fatalf("join: exit %d:\n%s", code, out)
	}
	for _, want := range []string{`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`, "MINI_DOCKER_TEST=inside-the-rootfs", "\ndeb\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	// ps pads the PID column to the width of the kernel's pid_max (5 or 7
	// digits): match the line, not the padding.
	if !regexp.MustCompile(`(?m)^\s*1 sleep$`).MatchString(out) {
		t.Errorf("want PID 1 sleep in:\n%s", out)
	}
	out, code = runUnshare(t, "join", strconv.Itoa(c), "--", "sh", "-c", "exit 7")
	if code != 7 {
		t.Errorf("join should end with the command's code 7, got %d:\n%s", code, out)
	}
	out, code = runUnshare(t, "show", strconv.Itoa(c))
	for _, want := range []string{"mnt ", "pid ", "uts ", "ipc "} {
		if !regexpLine(out, want, "private") {
			t.Errorf("show: %s should be private:\n%s", want, out)
		}
	}
	if code != 0 || !regexpLine(out, "net ", "shared") {
		t.Errorf("show: net should be shared with the host:\n%s", out)
	}
}

// TestJoinPlainChroot: join also enters a chroot's root (nsenter --root).
func TestJoinPlainChroot(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	os.WriteFile(filepath.Join(root, "etc/marker"), []byte("busybox-root\n"), 0o644)
	c := startContainer(t, testenv.Bin(t, "chroot"), root, "/bin/sleep", "300")
	out, code := runUnshare(t, "join", strconv.Itoa(c), "--", "/bin/cat", "/etc/marker")
	if code != 0 || out != "busybox-root\n" {
		t.Fatalf("want the chroot's file, got %d:\n%s", code, out)
	}
}

// TestExitCodesAndSignals: the parent ends with the child's code, 128+N
// when it was killed, and forwards the signals it gets.
func TestExitCodesAndSignals(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	if _, code := runUnshare(t, "--pid", "--", "sh", "-c", "exit 3"); code != 3 {
		t.Errorf("want exit 3, got %d", code)
	}
	if _, code := runUnshare(t, "--uts", "--", "sh", "-c", "kill -KILL $$"); code != 137 {
		t.Errorf("want 137 for a child killed by SIGKILL, got %d", code)
	}
	// PID 1 with a handler: SIGTERM sent to unshare reaches it.
	cmd := exec.Command(testenv.Bin(t, "unshare"), "--pid", "--", "sh", "-c",
		`trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		t.Fatalf("child did not start: %q", line)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 42 {
		t.Errorf("want 42 from the trapped SIGTERM, got %v", err)
	}
}

// TestJoinExisting: --net-path and --ns enter existing namespaces.
func TestJoinExisting(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	c := startContainer(t, testenv.Bin(t, "unshare"), "--net", "--uts", "--hostname", "other", "--", "sleep", "300")
	netns := fmt.Sprintf("/proc/%d/ns/net", c)
	want, _ := os.Readlink(netns)
	out, code := runUnshare(t, "--net-path", netns, "--uts", "--", "readlink", "/proc/self/ns/net")
	if code != 0 || out != want+"\n" {
		t.Errorf("--net-path: want %s, got %d: %s", want, code, out)
	}
	out, code = runUnshare(t, "--ns", fmt.Sprintf("uts=/proc/%d/ns/uts", c), "--", "hostname")
	if code != 0 || out != "other\n" {
		t.Errorf("--ns uts=: want other, got %d: %s", code, out)
	}

	// A bind mount of the namespace file, as `ip netns add` makes under
	// /run/netns: it keeps the namespace alive without any process.
	pinned := filepath.Join(t.TempDir(), "netns")
	os.WriteFile(pinned, nil, 0o644)
	if err := syscall.Mount(netns, pinned, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(pinned, syscall.MNT_DETACH)
	out, code = runUnshare(t, "--net-path", pinned, "--pid", "--", "readlink", "/proc/self/ns/net")
	if code != 0 || out != want+"\n" {
		t.Errorf("--net-path on a bind mount: want %s, got %d: %s", want, code, out)
	}
}

// TestExplain: --explain prints the util-linux commands.
func TestExplain(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	out, code := runUnshare(t, "--explain", "--user", "--map-root-user", "--pid", "--mount-proc", "--", "true")
	for _, want := range []string{"+ unshare --user --pid --mount --fork\n", "+ echo '0 0 1' > /proc/PID/uid_map\n",
		"+ echo deny > /proc/PID/setgroups\n", "+ mount -t proc -o nosuid,noexec,nodev proc /proc\n", "+ exec true\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("want %q, got %d:\n%s", want, code, out)
		}
	}
	c := startContainer(t, testenv.Bin(t, "unshare"), "--uts", "--", "sleep", "300")
	out, _ = runUnshare(t, "--explain", "join", strconv.Itoa(c), "--", "true")
	if want := fmt.Sprintf("+ nsenter --target %d --uts --root --wd -- true\n", c); !strings.Contains(out, want) {
		t.Errorf("want %q, got:\n%s", want, out)
	}
}

// TestShowSelf: the tool's own namespaces are the host's.
func TestShowSelf(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	out, code := runUnshare(t, "show")
	if code != 0 || strings.Contains(out, "private") || !regexpLine(out, "net ", "shared") {
		t.Fatalf("want every namespace shared, got %d:\n%s", code, out)
	}
	out, _ = runUnshare(t, "--net", "--uts", "--", testenv.Bin(t, "unshare"), "show")
	if !regexpLine(out, "net ", "private") || !regexpLine(out, "uts ", "private") || !regexpLine(out, "ipc ", "shared") {
		t.Fatalf("want net and uts private, ipc shared:\n%s", out)
	}
}

// TestBadInput: one-line errors and Docker's codes.
func TestBadInput(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	notExec := filepath.Join(t.TempDir(), "data")
	os.WriteFile(notExec, []byte("not a program\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown namespace", []string{"--ns", "foo=/proc/self/ns/net", "true"}, 125, `unknown namespace "foo"`},
		{"ns without file", []string{"--ns", "net", "true"}, 125, "want TYPE=FILE"},
		{"wrong namespace type", []string{"--ns", "net=/proc/self/ns/uts", "true"}, 125, "not a net namespace"},
		{"missing namespace file", []string{"--net-path", "/run/netns/does-not-exist", "true"}, 125, "/run/netns/does-not-exist"},
		{"create and join", []string{"--net", "--net-path", "/proc/self/ns/net", "true"}, 125, "both new"},
		{"join missing pid", []string{"join", "999999999", "--", "true"}, 125, "process 999999999: no such process"},
		{"join bad pid", []string{"join", "abc", "--", "true"}, 125, "want a process ID"},
		{"show missing pid", []string{"show", "999999999"}, 125, "no such process"},
		{"command not found", []string{"--pid", "--mount-proc", "--", "no-such-command"}, 127, "no-such-command"},
		{"not executable", []string{"--uts", "--", notExec}, 126, "permission denied"},
		{"unknown map user", []string{"--map-user", "no-such-user-here", "true"}, 125, "no such user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runUnshare(t, c.args...)
			if code != c.code || !strings.Contains(out, c.want) || !strings.HasPrefix(out, "unshare: error: ") {
				t.Fatalf("want exit %d and %q, got %d:\n%s", c.code, c.want, code, out)
			}
		})
	}
}

// startContainer starts a command chain in the background and returns
// the host PID of its last program (the first descendant whose command
// is sleep), stopping the whole chain when the test ends.
func startContainer(t *testing.T, bin string, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if pid := findSleep(cmd.Process.Pid); pid != 0 {
			return pid
		}
	}
	t.Fatalf("%s %v: no sleep process appeared", bin, args)
	return 0
}

// findSleep returns pid or its first descendant running sleep.
func findSleep(pid int) int {
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if strings.TrimSpace(string(comm)) == "sleep" {
		return pid
	}
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, k := range strings.Fields(string(kids)) {
		n, _ := strconv.Atoi(k)
		if p := findSleep(n); p != 0 {
			return p
		}
	}
	return 0
}

// regexpLine reports whether a line starts with prefix and ends with suffix.
func regexpLine(out, prefix, suffix string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) && strings.HasSuffix(strings.TrimSpace(l), suffix) {
			return true
		}
	}
	return false
}

// worldReadableCopy copies a binary where any user can run it.
func worldReadableCopy(t *testing.T, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "unshare-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "unshare")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInheritedFilesPass: descriptors the caller leaves open reach the
// command (mini-docker passes its helpers as /proc/self/fd/N), through
// the re-execution that joins namespaces and the child's, and nothing of
// ours leaks beside them.
func TestInheritedFilesPass(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	other := startContainer(t, testenv.Bin(t, "unshare"), "--net", "--", "sleep", "300")
	f, err := os.Open("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(testenv.Bin(t, "unshare"), "--pid", "--uts", "--net-path", fmt.Sprintf("/proc/%d/ns/net", other),
		"--ns", "ipc=/proc/self/ns/ipc", // already ours: skipped, and must not leak
		"--", "sh", "-c", "readlink /proc/self/fd/3; ls /proc/self/fd | tr '\\n' ' '")
	cmd.ExtraFiles = []*os.File{f}
	out, code := testenv.RunCmd(t, cmd)
	// The same command without unshare: what the test process itself
	// passes on (its own inherited descriptors included).
	direct := exec.Command("sh", "-c", "readlink /proc/self/fd/3; ls /proc/self/fd | tr '\\n' ' '")
	direct.ExtraFiles = []*os.File{f}
	want, _ := testenv.RunCmd(t, direct)
	if code != 0 || out != want || !strings.HasPrefix(out, "/etc/passwd\n") {
		t.Fatalf("want fd 3 passed and nothing else (%q), got %d: %q", want, code, out)
	}
}

// BenchmarkUnshare measures a command in new PID, mount (with /proc),
// UTS and IPC namespaces, from start to the parent's exit.
func BenchmarkUnshare(b *testing.B) {
	testenv.RequireRoot(b)
	bin := testenv.Bin(b, "unshare")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, "--pid", "--mount-proc", "--uts", "--ipc", "--", "/bin/true").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// BenchmarkJoin measures unshare join into a process in new namespaces.
func BenchmarkJoin(b *testing.B) {
	testenv.RequireRoot(b)
	bin := testenv.Bin(b, "unshare")
	cmd := exec.Command(bin, "--pid", "--mount-proc", "--uts", "--ipc", "--", "sleep", "300")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var pid int
	for pid == 0 {
		pid = findSleep(cmd.Process.Pid)
		time.Sleep(5 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, "join", strconv.Itoa(pid), "--", "/bin/true").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
