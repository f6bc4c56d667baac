package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// runChroot runs the built chroot with args and returns its output and exit code.
func runChroot(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return testenv.Run(t, testenv.Bin(t, "chroot"), args...)
}

// TestJailByHand is lesson 01's first part: an empty jail fails, prepare
// copies a shell and its libraries, then the jail runs it and sees only
// itself.
func TestJailByHand(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	jail := filepath.Join(t.TempDir(), "jail")
	os.Mkdir(jail, 0o755)

	out, code := runChroot(t, jail, "/bin/sh", "-c", "echo hi")
	if code != 127 || !strings.Contains(out, filepath.Join(jail, "bin/sh")) || !strings.Contains(out, "chroot prepare") {
		t.Fatalf("empty jail: want 127 naming %s/bin/sh and suggesting chroot prepare, got %d:\n%s", jail, code, out)
	}

	out, code = runChroot(t, "prepare", jail, "/bin/sh", "ls", "cat")
	if code != 0 {
		t.Fatalf("prepare: exit %d:\n%s", code, out)
	}
	for _, want := range []string{"/usr/bin/ls", "libc.so.6", "ld-linux"} {
		if !strings.Contains(out, want) {
			t.Errorf("prepare did not copy %s:\n%s", want, out)
		}
	}

	out, code = runChroot(t, jail, "/bin/sh", "-c", "ls /; cat /proc/version")
	if code == 0 {
		t.Fatalf("cat /proc/version should fail in a jail without /proc:\n%s", out)
	}
	if !strings.Contains(out, "usr") || strings.Contains(out, "home") || strings.Contains(out, "etc") {
		t.Errorf("ls / inside the jail should list only what prepare made:\n%s", out)
	}
}

// TestMissingLibrary: a dynamic binary copied without its loader fails
// with 127 and a message that names the loader's path.
func TestMissingLibrary(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	jail := t.TempDir()
	copyFile(t, "/usr/bin/ls", filepath.Join(jail, "ls"), 0o755)
	out, code := runChroot(t, jail, "/ls")
	if code != 127 || !strings.Contains(out, "ld-linux") || !strings.Contains(out, "chroot prepare") {
		t.Fatalf("want 127 naming the missing dynamic loader, got %d:\n%s", code, out)
	}
}

// TestBadInput: one-line errors, Docker's exit codes, nothing mounted.
func TestBadInput(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	os.WriteFile(filepath.Join(root, "notexec"), []byte("#!/bin/sh\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no rootfs", []string{"/nonexistent/rootfs", "/bin/sh"}, 125, "rootfs /nonexistent/rootfs: no such file or directory"},
		{"no rootfs pivot", []string{"--pivot", "/nonexistent/rootfs", "/bin/sh"}, 125, "no such file or directory"},
		{"no command", []string{root, "/bin/nothere"}, 127, filepath.Join(root, "bin/nothere")},
		{"no command pivot", []string{"--pivot", root, "--proc", "--", "nothere"}, 127, "chroot prepare"},
		{"not executable", []string{root, "/notexec"}, 126, "permission denied"},
		{"not executable pivot", []string{"--pivot", root, "--dev", "--", "/notexec"}, 126, "permission denied"},
		{"mount flag needs pivot", []string{"--proc", root, "/bin/sh"}, 125, "--proc needs --pivot"},
		{"bad bind", []string{"--pivot", root, "--bind", "nodst", "true"}, 125, "want SRC:DST"},
		{"bad shm", []string{"--pivot", root, "--shm", "lots", "true"}, 125, "--shm"},
		{"missing bind source", []string{"--pivot", root, "--bind", "/nonexistent:/x", "true"}, 125, "bind source /nonexistent"},
		{"relative workdir", []string{"--pivot", root, "--workdir", "tmp", "true"}, 125, "absolute"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runChroot(t, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("want exit %d and %q, got %d:\n%s", c.code, c.want, code, out)
			}
			if !strings.HasPrefix(out, "chroot: error: ") {
				t.Errorf("want a one-line 'chroot: error:' message, got:\n%s", out)
			}
		})
	}
}

// TestSymlinkedProc: a rootfs whose /proc is a symlink to /etc would get
// proc mounted on its /etc. chroot refuses, as runc does, and mounts
// nothing.
func TestSymlinkedProc(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	os.RemoveAll(filepath.Join(root, "proc"))
	os.Symlink("/etc", filepath.Join(root, "proc"))
	out, code := runChroot(t, "--pivot", root, "--docker", "--", "/bin/true")
	want := `chroot: error: mount proc on /proc: filesystem "proc" must be mounted on ordinary directory (the image's /proc is a symlink to /etc)`
	if code != 125 || !strings.Contains(out, want) {
		t.Fatalf("exit %d:\n%s\nwant 125 and %q", code, out, want)
	}
}

// TestNotRoot: as an ordinary user, both forms fail with a hint.
func TestNotRoot(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	bin := worldReadableCopy(t, testenv.Bin(t, "chroot"))
	root := testenv.BusyboxRootfs(t)
	os.Chmod(filepath.Dir(root), 0o755)
	for _, args := range [][]string{{root, "/bin/true"}, {"--pivot", root, "/bin/true"}} {
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, code := testenv.RunCmd(t, cmd)
		if code != 125 || !strings.Contains(out, "chroot: hint:") || !strings.Contains(out, "root") {
			t.Errorf("%v as nobody: want 125 and a hint about root, got %d:\n%s", args, code, out)
		}
	}
}

// TestEscape: the classic escape reaches the host from a plain chroot,
// and finds nothing above the root after pivot_root.
func TestEscape(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	copyFile(t, testenv.Bin(t, "escape"), filepath.Join(root, "escape"), 0o755)
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "host-secret")
	os.WriteFile(secret, []byte("only-on-the-host\n"), 0o600)

	out, code := runChroot(t, root, "/escape", "/bin/cat", secret)
	if code != 0 || !strings.Contains(out, "only-on-the-host") {
		t.Fatalf("escape from plain chroot should read the host file, got %d:\n%s", code, out)
	}
	out, code = runChroot(t, "--pivot", root, "--", "/escape", "/bin/cat", secret)
	if code == 0 || strings.Contains(out, "only-on-the-host") {
		t.Fatalf("escape under --pivot must fail, got %d:\n%s", code, out)
	}
}

// TestPivotDocker checks, from inside, what --docker and the other flags
// set up, as a learner would with cat /proc/self/mountinfo.
func TestPivotDocker(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	hostDir := t.TempDir()
	hosts := filepath.Join(hostDir, "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644)
	// A symlink planted in the rootfs that points out of it: a bind on it
	// must land inside the root, never on the host.
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "etc", "evil"))

	// Followed inside the root, the planted link leads to ROOT/OUTSIDE/x.
	script := `grep -c " ` + outside + `/x " /proc/self/mountinfo
cd /work && pwd
ls /dev | tr '\n' ' '; echo
grep -E ' /(proc|dev|dev/pts|dev/shm|dev/mqueue|sys|sys/fs/cgroup|etc/hosts|etc/evil/x|proc/sys|proc/keys) ' /proc/self/mountinfo | awk '{print $5, $6, $(NF-2), $NF}'
cat /proc/keys | wc -c
echo x >> /etc/hosts 2>/dev/null || echo hosts-ro
cat /etc/hosts
touch /newfile 2>/dev/null || echo root-ro
`
	out, code := runChroot(t, "--pivot", root, "--docker", "--read-only", "--workdir", "/work",
		"--bind", hosts+":/etc/hosts:ro", "--bind", hostDir+":/etc/evil/x",
		"--", "/bin/sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	checks := []string{
		"/work\n",
		"/proc rw,nosuid,nodev,noexec",
		"/dev rw,nosuid",
		"/dev/pts rw,nosuid,noexec",
		"ptmxmode=666",
		"/dev/shm rw,nosuid,nodev,noexec",
		"size=65536k",
		"/dev/mqueue rw,nosuid,nodev,noexec",
		"/sys ro,nosuid,nodev,noexec",
		"/proc/sys ro,",
		"/proc/keys ",
		"/etc/hosts ro,",
		"\n0\n", // /proc/keys reads empty: /dev/null is bound over it
		"hosts-ro",
		"127.0.0.1 localhost",
		"root-ro",
	}
	// v1 and hybrid: a tmpfs holding the hierarchies, each ro
	// (TestPivotCgroupfs); v2: the cgroup2 tree itself, ro, as Docker
	// mounts it.
	if host, err := cgroup.Detect(); err == nil && host.Mode == cgroup.V2 {
		checks = append(checks, "/sys/fs/cgroup ro,")
	} else {
		checks = append(checks, "/sys/fs/cgroup rw,")
	}
	for _, want := range checks {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "1\n") {
		t.Errorf("the bind through the planted link should be mounted inside the root:\n%s", out)
	}
	devs := map[string]bool{}
	for _, d := range strings.Fields(strings.Split(out, "\n")[2]) {
		devs[d] = true
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue", "fd", "stdin", "stdout", "stderr"} {
		if !devs[d] {
			t.Errorf("/dev lacks %s: %v", d, devs)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the bind through the planted symlink landed outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "evil")); err != nil {
		t.Errorf("planted symlink should still be there: %v", err)
	}
}

// TestPivotOnSharedRoot: the systemd trap. With / shared, pivot_root
// fails unless the tool makes it private first, and mounts would leak back.
func TestPivotOnSharedRoot(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	utilUnshare := utilLinuxUnshare(t)
	root := testenv.BusyboxRootfs(t)
	chroot := testenv.Bin(t, "chroot")
	// util-linux unshare: a private copy of the mount table (so this test
	// changes nothing on the host), then / made shared, as systemd does.
	cmd := exec.Command(utilUnshare, "--mount", "--propagation", "unchanged", "sh", "-c",
		`mount --make-rshared / && "$0" --pivot "$1" --proc -- /bin/sh -c 'ls /proc/self/ >/dev/null && echo pivoted' && (grep -c "$1" /proc/self/mountinfo || true)`,
		chroot, root)
	out, code := testenv.RunCmd(t, cmd)
	if code != 0 || !strings.Contains(out, "pivoted\n0\n") {
		t.Fatalf("want the pivot to work and no mount of the rootfs left in the shared namespace, got %d:\n%s", code, out)
	}
}

// utilLinuxUnshare returns util-linux's unshare (not ours, which may come
// first in PATH and takes other flags).
func utilLinuxUnshare(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/unshare"); err == nil {
		return "/usr/bin/unshare"
	}
	return testenv.RequireCommand(t, "unshare")
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// worldReadableCopy copies a binary where any user can run it (the test
// binaries' folder is private to root).
func worldReadableCopy(t *testing.T, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "chroot-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	p := filepath.Join(dir, filepath.Base(bin))
	copyFile(t, bin, p, 0o755)
	return p
}

// TestPivotInUserNamespace: inside a user namespace the kernel refuses
// mknod, a new sysfs (without a network namespace of its own), cgroup v1
// mounts and devpts' gid=5; --docker falls back as runc does.
func TestPivotInUserNamespace(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	cmd := exec.Command(utilLinuxUnshare(t), "--user", "--map-root-user", "--mount", "--pid", "--ipc", "--fork",
		testenv.Bin(t, "chroot"), "--pivot", root, "--docker", "--",
		"/bin/sh", "-c", `ls /dev | tr '\n' ' '; echo; echo hi > /dev/null && grep -c " /sys ro," /proc/self/mountinfo`)
	out, code := testenv.RunCmd(t, cmd)
	if code != 0 || !strings.Contains(out, "null") || !strings.Contains(out, "urandom") || !strings.HasSuffix(out, "\n1\n") {
		t.Fatalf("want /dev and a read-only /sys in a user namespace, got %d:\n%s", code, out)
	}
}

// BenchmarkPivotDocker measures chroot --pivot with all of Docker's
// mounts, masks and read-only paths, up to the exec of /bin/true.
func BenchmarkPivotDocker(b *testing.B) {
	testenv.RequireRoot(b)
	bin := testenv.Bin(b, "chroot")
	root := testenv.BusyboxRootfs(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, "--pivot", root, "--docker", "--", "/bin/true").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// BenchmarkChroot measures the classic chroot + exec.
func BenchmarkChroot(b *testing.B) {
	testenv.RequireRoot(b)
	bin := testenv.Bin(b, "chroot")
	root := testenv.BusyboxRootfs(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, root, "/bin/true").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// TestPivotCgroupfs: the chain joins the container's group (cgroupctl
// exec), then --docker mounts /sys/fs/cgroup. As under docker run, the
// container sees its own group, read-only, and so its own limits: on v1
// and hybrid hosts a rw tmpfs holding a ro bind of the group in each v1
// hierarchy (no cgroup2 "unified" entry), on v2 a ro cgroup2 mount.
// Docker's masks as runc makes them: a plain ro tmpfs on folders, the
// container's /dev/null (tmpfs) on files, and /dev/core only when the
// kernel has /proc/kcore.
func TestPivotCgroupfs(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	cgroupctl := testenv.Bin(t, "cgroupctl")
	chroot := testenv.Bin(t, "chroot")
	host, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	parent := fmt.Sprintf("mini-docker-test-%d-cgfs", os.Getpid())
	r := cgroup.Resources{PidsLimit: 42, Memory: 64 << 20}
	g, undo, err := cgroup.Create(host, parent, "c1", r, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := undo(); err != nil {
			t.Error(err)
		}
	}()
	own := "/" + parent + "/c1"
	// v1: each hierarchy's mount shows the group at its root. v2 without
	// a cgroup namespace (this test makes none; mini-docker run does): the
	// whole tree, the group at its own path.
	script := `grep -E ' /sys/fs/cgroup(/| )' /proc/self/mountinfo | awk '{print $5, $4, $6, $(NF-2)}'
echo pids.max $(cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup` + own + `/pids.max 2>/dev/null)
echo limit $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup` + own + `/memory.max 2>/dev/null)
{ echo x > /sys/fs/cgroup/pids/pids.max; } 2>/dev/null || echo cgroup-ro
grep -E ' /(proc/acpi|sys/firmware|proc/keys|proc/timer_list) ' /proc/self/mountinfo | awk '{print "mask", $5, $6, $(NF-2), $NF}'
if test -L /dev/core; then echo dev-core; fi
`
	out, code := testenv.Run(t, cgroupctl, "exec", "--name", g.Name, "--parent", parent, "--",
		chroot, "--pivot", root, "--docker", "--", "/bin/sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	checks := []string{"pids.max 42\n", "limit 67108864\n", "cgroup-ro\n"}
	if host.Mode == cgroup.V2 {
		checks = append(checks, "/sys/fs/cgroup ")
	} else {
		checks = append(checks, "/sys/fs/cgroup / rw,nosuid,nodev,noexec,relatime tmpfs\n")
		for _, h := range host.Hierarchies {
			checks = append(checks, "/sys/fs/cgroup/"+filepath.Base(h.Point)+" "+own+" ro,nosuid,nodev,noexec,relatime cgroup\n")
		}
		if strings.Contains(out, "/sys/fs/cgroup/unified") {
			t.Errorf("the hybrid host's cgroup2 tree should not be shown, as under Docker:\n%s", out)
		}
	}
	for _, want := range checks {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 5 || f[0] != "mask" {
			continue
		}
		switch f[1] {
		case "/proc/acpi", "/sys/firmware":
			// "inode64" is the kernel's own default on kernels built with
			// CONFIG_TMPFS_INODE64 (Debian's), not an option we passed.
			if f[3] != "tmpfs" || (f[4] != "ro" && f[4] != "ro,inode64") {
				t.Errorf("masked folder %s: %s %s, want runc's plain read-only tmpfs (super options just ro)", f[1], f[3], f[4])
			}
		default:
			if f[3] != "tmpfs" || !strings.HasPrefix(f[2], "rw,nosuid") {
				t.Errorf("masked file %s: %s %s, want the container's /dev/null (its /dev tmpfs, nosuid)", f[1], f[2], f[3])
			}
		}
	}
	_, kcore := os.Stat("/proc/kcore")
	if got := strings.Contains(out, "dev-core"); got != (kcore == nil) {
		t.Errorf("/dev/core present %v, /proc/kcore present %v: runc makes the link only when the kernel has kcore", got, kcore == nil)
	}
	if procs, _ := g.Procs(); len(procs) != 0 {
		t.Errorf("processes left in the group: %v", procs)
	}
}

// TestPivotPrivileged checks, from inside, what --privileged changes in
// --docker, as `docker run --privileged` does: no masked or read-only
// paths, /sys and the cgroup tree writable, the host's device nodes in
// /dev with the host's major:minor and mode (not the console nor the
// host's ptys). The same probe without it shows Docker's defaults.
func TestPivotPrivileged(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	root := testenv.BusyboxRootfs(t)
	var host []string // "NAME MAJ:MIN MODE", as busybox stat prints them
	for _, name := range []string{"loop0", "vda", "net/tun"} {
		var st syscall.Stat_t
		if syscall.Stat("/dev/"+name, &st) == nil {
			host = append(host, fmt.Sprintf("%s %x:%x %o", name, st.Rdev>>8&0xfff, st.Rdev&0xff|(st.Rdev>>12)&0xfff00, st.Mode&0o7777))
		}
	}
	if len(host) == 0 {
		t.Skip("the host has none of /dev/loop0, /dev/vda, /dev/net/tun to look for")
	}
	// ": >>" opens the sysfs file for writing and writes nothing: the
	// kernel answers EROFS on a read-only /sys, without changing the host.
	script := `(: >> /sys/kernel/rcu_expedited) 2>/dev/null && echo sys-rw || echo sys-ro
grep -c -E ' /proc/(keys|timer_list|sys) ' /proc/self/mountinfo
grep ' /sys/fs/cgroup/' /proc/self/mountinfo | awk '{print $6}' | grep -c '^ro' 
for d in loop0 vda net/tun; do [ -e /dev/$d ] && echo "$d $(stat -c '%t:%T %a' /dev/$d)"; done
[ -e /dev/console ] && echo console
ls /dev/pts | tr '\n' ' '; echo
readlink /dev/ptmx
`
	cases := []struct {
		name  string
		flags []string
		want  []string // the first lines of the output: /sys, masks, ro cgroup mounts
	}{
		{"docker", []string{"--docker"}, []string{"sys-ro", "3"}},
		{"privileged", []string{"--docker", "--privileged"}, []string{"sys-rw", "0", "0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--pivot", root}, c.flags...)
			out, code := runChroot(t, append(args, "--", "/bin/sh", "-c", script)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			lines := strings.Split(out, "\n")
			for i, w := range c.want {
				if i >= len(lines) || lines[i] != w {
					t.Errorf("line %d: want %q in:\n%s", i+1, w, out)
				}
			}
			for _, h := range host {
				if got := strings.Contains(out, h+"\n"); got != (c.name == "privileged") {
					t.Errorf("host device %q in /dev: %v, want %v:\n%s", h, got, !got, out)
				}
			}
			for _, bad := range []string{"console\n", "\n0 "} { // the host's console and ptys stay out
				if strings.Contains(out, bad) {
					t.Errorf("%q should not be in the container's /dev:\n%s", bad, out)
				}
			}
			if !strings.Contains(out, "pts/ptmx\n") {
				t.Errorf("/dev/ptmx should stay the link to the own devpts instance:\n%s", out)
			}
		})
	}
}

// TestExplainQuotesPaths: every line --explain prints names the root and
// a --device path as one quoted shell word, so a learner who pastes the
// lines runs no code hidden in a name ($(...) in a folder's name).
func TestExplainQuotesPaths(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	odd := filepath.Join(t.TempDir(), "r$(touch pwned)")
	if err := os.Rename(testenv.BusyboxRootfs(t), odd); err != nil {
		t.Fatal(err)
	}
	dev := "/dev/x;touch${IFS}pwned"
	out, code := runChroot(t, "--explain", "--pivot", odd, "--docker", "--device", "/dev/null:"+dev, "--", "/bin/true")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "+ ") && expandsOutsideQuotes(line) {
			t.Errorf("a line names the root or the device unquoted: %s", line)
		}
	}
}

// expandsOutsideQuotes reports whether a shell line holds a $ outside
// single quotes (where the shell would expand it).
func expandsOutsideQuotes(line string) bool {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\'':
			quoted = !quoted
		case c == '\\' && !quoted:
			i++
		case c == '$' && !quoted:
			return true
		}
	}
	return false
}
