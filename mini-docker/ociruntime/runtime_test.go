package ociruntime_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/ociruntime"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// bundle makes a bundle as `runc spec` writes it, with the args changed
// to argv, no terminal, and a group of its own: the busybox rootfs and
// the probe in it.
func bundle(t *testing.T, argv ...string) (dir string, spec *specs.Spec) {
	t.Helper()
	dir = t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := testenv.MakeBusyboxRootfs(rootfs); err != nil {
		t.Fatal(err)
	}
	probe, err := os.ReadFile(testenv.Bin(t, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/probe"), probe, 0o755); err != nil {
		t.Fatal(err)
	}
	spec = ociruntime.DefaultSpec()
	spec.Process.Terminal = false
	spec.Process.Args = argv
	spec.Linux.CgroupsPath = "/oci-test-" + filepath.Base(dir)
	writeSpec(t, dir, spec)
	return dir, spec
}

func writeSpec(t *testing.T, dir string, spec *specs.Spec) {
	t.Helper()
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runtime runs our runtime with its state in root. Its output goes
// through a file, not a pipe: a container left running (create, run
// --detach) keeps the runtime's stdout and stderr, as runc's does, and
// a pipe would not end before it does.
func runtime(t *testing.T, root string, args ...string) (string, int) {
	t.Helper()
	testenv.Bin(t, "unshare") // exec's hop, next to mini-docker
	return runFile(t, exec.Command(testenv.Bin(t, "mini-docker"), append([]string{"runtime", "--root", root}, args...)...))
}

// runFile runs cmd with its output in a file and returns it and the exit code.
func runFile(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f.Name())
	return string(b), code
}

// hostNS is the probe's --host-ns argument: this process's namespaces,
// so that it prints "host" or "new" for each instead of inode numbers.
func hostNS(t *testing.T) string {
	var parts []string
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/self/ns/"+ns, &st); err == nil {
			parts = append(parts, fmt.Sprintf("%s=%d", ns, st.Ino))
		}
	}
	return "--host-ns=" + strings.Join(parts, ",")
}

// groupDir is where the group of cgroupsPath is in the pids hierarchy
// (v1 or hybrid) or the cgroup2 tree.
func groupDir(path string) string {
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err == nil {
		return "/sys/fs/cgroup/pids" + path
	}
	return "/sys/fs/cgroup" + path
}

// TestRunSameViewAsRunc: the bundle runc spec writes, its command the
// probe, run by runc and by our runtime in turn (same ID, same group):
// the container sees the same capabilities, seccomp mode, mounts,
// namespaces, cgroup and /dev, line for line.
func TestRunSameViewAsRunc(t *testing.T) {
	testenv.Integration(t)
	runc := testenv.RequireCommand(t, "runc")
	dir, _ := bundle(t, "/bin/probe", hostNS(t))
	out := map[string]string{}
	for name, argv := range map[string][]string{
		"runc": {runc, "--root", t.TempDir(), "run", "--bundle", dir, "probe"},
		"ours": {testenv.Bin(t, "mini-docker"), "runtime", "--root", t.TempDir(), "run", "--bundle", dir, "probe"},
	} {
		o, code := runFile(t, exec.Command(argv[0], argv[1:]...))
		if code != 0 {
			t.Fatalf("%s run: exit %d\n%s", name, code, o)
		}
		out[name] = o
	}
	want, got := strings.Split(out["runc"], "\n"), strings.Split(out["ours"], "\n")
	if len(want) < 50 {
		t.Fatalf("runc's probe printed %d lines:\n%s", len(want), out["runc"])
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := line(want, i), line(got, i)
		if w != g {
			t.Errorf("line %d:\n runc: %s\n ours: %s", i+1, w, g)
		}
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(none)"
}

// state returns the state JSON's status and pid.
func state(t *testing.T, root, id string) (string, int) {
	t.Helper()
	out, code := runtime(t, root, "state", id)
	if code != 0 {
		t.Fatalf("state %s: exit %d: %s", id, code, out)
	}
	var s specs.State
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("state %s: %v\n%s", id, err, out)
	}
	return string(s.Status), s.Pid
}

// TestLifecycle: create leaves a process waiting ("created", its PID in
// the pid file), start runs the command ("running"), kill ends it
// ("stopped"), delete removes the state and the group.
func TestLifecycle(t *testing.T) {
	testenv.Integration(t)
	dir, spec := bundle(t, "sleep", "1000")
	root := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "pid")
	if out, code := runtime(t, root, "create", "--bundle", dir, "--pid-file", pidFile, "c1"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	status, pid := state(t, root, "c1")
	b, _ := os.ReadFile(pidFile)
	if status != "created" || fmt.Sprint(pid) != string(b) {
		t.Fatalf("after create: status %s pid %d, pid file %q", status, pid, b)
	}
	cgroup := groupDir(spec.Linux.CgroupsPath)
	if _, err := os.Stat(cgroup); err != nil {
		t.Errorf("no group after create: %v", err)
	}
	if out, code := runtime(t, root, "start", "c1"); code != 0 {
		t.Fatalf("start: exit %d: %s", code, out)
	}
	// start returns once the process has exec'd its command (the fifo's
	// end closes at the exec), not while it is still the runtime's init:
	// a docker exec right after docker run -d found that init as PID 1.
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "sleep" {
		t.Fatalf("right after start, the container's process runs %q, want sleep", comm)
	}
	if status, _ := state(t, root, "c1"); status != "running" {
		t.Fatalf("after start: %s", status)
	}
	if out, code := runtime(t, root, "delete", "c1"); code == 0 {
		t.Errorf("delete of a running container succeeded: %s", out)
	}
	if out, code := runtime(t, root, "kill", "c1", "KILL"); code != 0 {
		t.Fatalf("kill: exit %d: %s", code, out)
	}
	deadline := time.Now().Add(time.Minute)
	for status, _ := state(t, root, "c1"); status != "stopped"; status, _ = state(t, root, "c1") {
		if time.Now().After(deadline) {
			t.Fatalf("still %s a minute after kill", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, code := runtime(t, root, "delete", "c1"); code != 0 {
		t.Fatalf("delete: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, "c1")); !os.IsNotExist(err) {
		t.Errorf("state left after delete: %v", err)
	}
	if _, err := os.Stat(cgroup); !os.IsNotExist(err) {
		t.Errorf("group left after delete: %v", err)
	}
}

// TestRunExitCodeAndExec: run returns the command's exit code; exec runs
// a process in a running container's namespaces, with its own args.
func TestRunExitCodeAndExec(t *testing.T) {
	testenv.Integration(t)
	dir, _ := bundle(t, "sh", "-c", "exit 3")
	root := t.TempDir()
	if out, code := runtime(t, root, "run", "--bundle", dir, "r1"); code != 3 {
		t.Errorf("run of exit 3: exit %d: %s", code, out)
	}
	_, spec := bundle(t)
	spec.Process.Args = []string{"sleep", "1000"}
	writeSpec(t, dir, spec)
	if out, code := runtime(t, root, "run", "--detach", "--bundle", dir, "r2"); code != 0 {
		t.Fatalf("run --detach: exit %d: %s", code, out)
	}
	defer runtime(t, root, "delete", "--force", "r2")
	// start returns once the process has read the fifo; its exec of
	// sleep follows a moment later, as with runc.
	deadline := time.Now().Add(time.Minute)
	for {
		out, code := runtime(t, root, "exec", "r2", "sh", "-c", "hostname; cat /proc/1/comm")
		if code == 0 && out == "runc\nsleep\n" {
			break
		}
		if code != 0 || time.Now().After(deadline) {
			t.Fatalf("exec: exit %d, output %q, want runc and sleep", code, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, code := runtime(t, root, "exec", "r2", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec of exit 7: exit %d: %s", code, out)
	}
}

// TestBadBundle: what the runtime cannot run is one line and exit 125,
// and leaves neither state nor group behind.
func TestBadBundle(t *testing.T) {
	testenv.Integration(t)
	root := t.TempDir()
	dir, spec := bundle(t, "true")
	cases := map[string]func(s *specs.Spec){
		"no args": func(s *specs.Spec) { s.Process.Args = nil },
		"bad namespace": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		},
		"join mount ns from a new user ns": func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace, Path: "/proc/1/ns/mnt"}, {Type: specs.UserNamespace}}
		},
		"join user ns beside new ones": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
		},
		"join a missing mount ns": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces[:0:0], specs.LinuxNamespace{Type: specs.MountNamespace, Path: "/proc/no-such/ns/mnt"}, specs.LinuxNamespace{Type: specs.PIDNamespace})
		},
		"missing command":             func(s *specs.Spec) { s.Process.Args = []string{"/no/such/thing"} },
		"cgroupsPath out of the tree": func(s *specs.Spec) { s.Linux.CgroupsPath = "/oci-test/../../etc" },
		"cgroupsPath empty level":     func(s *specs.Spec) { s.Linux.CgroupsPath = "oci-test//x" },
		"missing rootfs":              func(s *specs.Spec) { s.Root.Path = "nowhere" },
		// uid 4294967295 is -1 to setresuid: "unchanged", root stays.
		"uid -1":        func(s *specs.Spec) { s.Process.User.UID = 4294967295 },
		"gid past 2^31": func(s *specs.Spec) { s.Process.User.GID = 2147483648 },
		"relative cwd":  func(s *specs.Spec) { s.Process.Cwd = "../../tmp" },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			var s specs.Spec
			b, _ := json.Marshal(spec)
			json.Unmarshal(b, &s)
			change(&s)
			writeSpec(t, dir, &s)
			out, code := runtime(t, root, "create", "--bundle", dir, "bad")
			if code == 0 || strings.Count(strings.TrimSpace(out), "\n") > 1 {
				t.Errorf("create: exit %d, want one error line:\n%s", code, out)
			}
			if _, err := os.Stat(filepath.Join(root, "bad")); !os.IsNotExist(err) {
				t.Errorf("state left behind: %v", err)
			}
			if _, err := os.Stat(groupDir(s.Linux.CgroupsPath)); !os.IsNotExist(err) {
				t.Errorf("group left behind: %v", err)
			}
		})
	}
}

// TestRelativeCgroupsPath: a relative linux.cgroupsPath several levels
// deep (runtime-tools' testdir/cgrouptest/ID) is made where runc makes
// it: below the runtime's own group in every tree of a v1 or hybrid
// host, and beside it, below its parent, on a pure v2 host (runc's
// fs2.defaultDirPath: the group holds the runtime, and v2 gives no
// controllers to the children of a group with processes). The runtime
// runs in a group of the test's (cgroupctl exec), the container's
// /proc/self/cgroup shows that path in every line, and when run ends
// the levels it made are gone and the runtime's group is not.
func TestRelativeCgroupsPath(t *testing.T) {
	testenv.Integration(t)
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	self := fmt.Sprintf("oci-test-self-%d", os.Getpid())
	g, undo, err := cgroup.Create(h, "", self, cgroup.Resources{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer undo()
	dir, spec := bundle(t, "cat", "/proc/self/cgroup")
	spec.Linux.CgroupsPath = "testdir/cgrouptest/rel1"
	var ns []specs.LinuxNamespace
	for _, n := range spec.Linux.Namespaces {
		if n.Type != specs.CgroupNamespace { // the host's view of the groups
			ns = append(ns, n)
		}
	}
	spec.Linux.Namespaces = ns
	writeSpec(t, dir, spec)
	testenv.Bin(t, "unshare")
	out, code := runFile(t, exec.Command(testenv.Bin(t, "cgroupctl"), "exec", "--parent", "", "--name", self, "--",
		testenv.Bin(t, "mini-docker"), "runtime", "--root", t.TempDir(), "run", "--bundle", dir, "rel1"))
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	under := "/" + self
	if h.Mode == cgroup.V2 {
		under = "/" // the parent of the runtime's group, the tree's root
	}
	want, lines := filepath.Join(under, "testdir/cgrouptest/rel1"), 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 {
			lines++
			if f[2] != want {
				t.Errorf("/proc/self/cgroup line %q, want %s in every tree", l, want)
			}
		}
	}
	if lines != len(g.Dirs()) {
		t.Errorf("%d lines of /proc/self/cgroup, %d trees:\n%s", lines, len(g.Dirs()), out)
	}
	for _, d := range g.Dirs() {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the runtime's own group went with the container: %v", err)
		}
		made := filepath.Join(d, "testdir")
		if h.Mode == cgroup.V2 {
			made = filepath.Join(filepath.Dir(d), "testdir")
		}
		if _, err := os.Stat(made); !os.IsNotExist(err) {
			t.Errorf("the level create made is left: %s: %v", made, err)
		}
	}
}

// TestJoinMountNamespaceByPath: a bundle that names an existing mount
// namespace (runtime-tools' linux_ns_path: one util-linux unshare made)
// runs in it, the join done in unshare's C constructor: the container's
// process shows that namespace's inode, and the namespace's holder is
// untouched.
func TestJoinMountNamespaceByPath(t *testing.T) {
	testenv.Integration(t)
	holder := exec.Command(testenv.RequireCommand(t, "unshare"), "--mount", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	path := fmt.Sprintf("/proc/%d/ns/mnt", holder.Process.Pid)
	var want string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		want, _ = os.Readlink(path)
		self, _ := os.Readlink("/proc/self/ns/mnt")
		if want != "" && want != self {
			break // unshare has made it and exec'd sleep in it
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still %q a minute after unshare --mount started", path, want)
		}
	}
	dir, spec := bundle(t, "readlink", "/proc/self/ns/mnt")
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			spec.Linux.Namespaces[i].Path = path
		}
	}
	writeSpec(t, dir, spec)
	out, code := runtime(t, t.TempDir(), "run", "--bundle", dir, "joinmnt")
	if code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("run in %s: exit %d, the container's mount namespace %q, want %q", path, code, strings.TrimSpace(out), want)
	}
	if now, _ := os.Readlink(path); now != want {
		t.Errorf("the holder's namespace changed: %s, was %s", now, want)
	}
}
