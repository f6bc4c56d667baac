package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/capctl/caps"
	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// capLines returns the Cap* lines of a /proc/PID/status dump as a map.
func capLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.HasPrefix(k, "Cap") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestRunDockerDefault(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	out, code := testenv.Run(t, capctl, "run", "--docker-default", "--", "grep", "Cap", "/proc/self/status")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	got := capLines(out)
	want := map[string]string{
		"CapInh": "0000000000000000", "CapPrm": "00000000a80425fb", "CapEff": "00000000a80425fb",
		"CapBnd": "00000000a80425fb", "CapAmb": "0000000000000000",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q (output:\n%s)", k, got[k], v, out)
		}
	}
}

func TestRunDropChownFailsForRoot(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// With CAP_CHOWN, root gives the file away...
	if out, code := testenv.Run(t, capctl, "run", "--", "chown", "1", file); code != 0 {
		t.Fatalf("chown with every capability: exit %d: %s", code, out)
	}
	// ...without it, uid 0 is refused like anyone else.
	out, code := testenv.Run(t, capctl, "run", "--drop", "CHOWN", "--", "chown", "2", file)
	if code == 0 || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("chown after --drop CHOWN: exit %d, %q; want EPERM", code, out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil || st.Uid != 1 {
		t.Errorf("owner after the refused chown = %d, %v; want 1", st.Uid, err)
	}
	// The uid is still 0: it is the capability that is gone.
	out, _ = testenv.Run(t, capctl, "run", "--cap-drop", "chown", "--", "grep", "-E", "^(Uid|CapBnd)", "/proc/self/status")
	if !regexp.MustCompile(`Uid:\s+0\s+0`).MatchString(out) || strings.Contains(out, "ffffffffff") {
		t.Errorf("status after --cap-drop chown:\n%s", out)
	}
}

// inNewNetns runs cmd in a network namespace of its own (the kernel makes
// it at clone), never the host's, as uid/gid when cred is set.
func inNewNetns(cmd *exec.Cmd, cred *syscall.Credential) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Credential: cred}
	return cmd
}

func TestBindPort80WithFileCapability(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	src := testenv.Bin(t, "bindport")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // nobody must reach the copy
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	server := filepath.Join(dir, "bindport")
	if err := os.WriteFile(server, b, 0o755); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}

	out, code := testenv.RunCmd(t, inNewNetns(exec.Command(server, "80"), nobody))
	if code == 0 || !strings.Contains(out, "EACCES") {
		t.Fatalf("nobody binding :80 without capabilities: exit %d, %q; want EACCES", code, out)
	}

	if out, code := testenv.Run(t, capctl, "setfile", "cap_net_bind_service+ep", server); code != 0 {
		t.Fatalf("setfile: exit %d: %s", code, out)
	}
	out, _ = testenv.Run(t, capctl, "getfile", server)
	if out != server+" cap_net_bind_service=ep\n" {
		t.Errorf("getfile = %q", out)
	}
	out, code = testenv.RunCmd(t, inNewNetns(exec.Command(server, "80"), nobody))
	if code != 0 || out != "bound 0.0.0.0:80 as uid 65534\n" {
		t.Errorf("nobody binding :80 with cap_net_bind_service+ep: exit %d, %q", code, out)
	}

	// The bounding set wins over the file. A file with the effective bit
	// whose permitted capabilities cannot all be granted is refused at
	// execve with EPERM (capabilities(7), "capability-dumb binaries"):
	// better not to start than to start without the privilege it expects.
	out, code = testenv.RunCmd(t, inNewNetns(exec.Command(capctl, "run", "--docker-default", "--drop", "NET_BIND_SERVICE", "--user", "nobody", "--", server, "80"), nil))
	if code != 126 || !strings.Contains(out, "operation not permitted") {
		t.Errorf("file capability outside the bounding set: exit %d, %q; want 126 and EPERM from execve", code, out)
	}

	if out, code := testenv.Run(t, capctl, "rmfile", server); code != 0 {
		t.Fatalf("rmfile: exit %d: %s", code, out)
	}
	if out, _ := testenv.Run(t, capctl, "getfile", server); out != "" {
		t.Errorf("getfile after rmfile = %q; want nothing", out)
	}
	out, code = testenv.RunCmd(t, inNewNetns(exec.Command(server, "80"), nobody))
	if code == 0 {
		t.Errorf("nobody bound :80 after rmfile: %q", out)
	}
}

func TestRunKeepAmbientAcrossUserChange(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	server := testenv.Bin(t, "bindport") // no file capabilities: only ambient can help
	dir := filepath.Dir(server)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	out, code := testenv.RunCmd(t, inNewNetns(exec.Command(capctl, "run", "--user", "nobody", "--", server, "80"), nil))
	if code == 0 || !strings.Contains(out, "EACCES") {
		t.Errorf("--user nobody without --keep: exit %d, %q; want EACCES", code, out)
	}
	out, code = testenv.RunCmd(t, inNewNetns(exec.Command(capctl, "run", "--cap-drop", "ALL", "--keep", "NET_BIND_SERVICE", "--user", "nobody", "--", server, "80"), nil))
	if code != 0 || out != "bound 0.0.0.0:80 as uid 65534\n" {
		t.Errorf("--keep NET_BIND_SERVICE --user nobody: exit %d, %q", code, out)
	}
	out, code = testenv.Run(t, capctl, "run", "--cap-drop", "ALL", "--ambient-caps", "+net_bind_service", "--user", "65534:65534", "--", "grep", "Cap", "/proc/self/status")
	got := capLines(out)
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if got[k] != "0000000000000400" {
			t.Errorf("%s = %q; want only cap_net_bind_service (exit %d:\n%s)", k, got[k], code, out)
		}
	}
}

func TestRunUserFromRootsEtc(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("app:x:4321:4322::/srv/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("app:x:4322:\nlog:x:4400:app\nweb:x:4500:other,app\n"), 0o644)

	cmd := exec.Command(capctl, "run", "--root", root, "--docker-default", "--user", "app", "--group-add", "77", "--no-new-privs",
		"--", "sh", "-c", "grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs)' /proc/self/status; echo HOME=$HOME")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, code := testenv.RunCmd(t, cmd)
	for _, want := range []string{
		`Uid:\s+4321\s+4321\s+4321\s+4321`, `Gid:\s+4322\s+4322\s+4322\s+4322`, `Groups:\s+77 4322 4400 4500\s*\n`,
		`CapEff:\s+0000000000000000`, `CapBnd:\s+00000000a80425fb`, `NoNewPrivs:\s+1`, `HOME=/srv/app`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("missing %s in (exit %d):\n%s", want, code, out)
		}
	}
	out, code = testenv.Run(t, capctl, "run", "--root", root, "--user", "nosuchuser", "--", "true")
	if code != 125 || !strings.Contains(out, "capctl: error: unable to find user nosuchuser") {
		t.Errorf("unknown user: exit %d, %q", code, out)
	}
}

func TestBadInput(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o755)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"run", "--drop", "CHOWN,FLY", "--", "true"}, 125, `capctl: error: unknown capability "FLY"`},
		{[]string{"run", "--cap-add", "cap_fly", "--", "true"}, 125, `capctl: error: unknown capability "cap_fly"`},
		{[]string{"run", "--keep", "nope", "--", "true"}, 125, `capctl: error: unknown capability "nope"`},
		{[]string{"setfile", "cap_fly+ep", file}, 125, `capctl: error: unknown capability "cap_fly"`},
		{[]string{"setfile", "cap_chown", file}, 125, `capctl: error: "cap_chown": no operator`},
		{[]string{"decode", "xyz"}, 125, `capctl: error: "xyz" is not a capability set in hex`},
		{[]string{"run", "--docker-default"}, 125, "capctl: error: no command given"},
		{[]string{"run", "--", "/no/such/cmd"}, 127, "capctl: error: /no/such/cmd: no such file or directory"},
		{[]string{"frobnicate"}, 125, `capctl: error: unknown command "frobnicate"`},
		{[]string{"show", "abc"}, 125, `capctl: error: "abc" is not a process id`},
	}
	for _, tt := range tests {
		out, code := testenv.Run(t, capctl, tt.args...)
		first, _, _ := strings.Cut(out, "\n")
		if code != tt.code || !strings.HasPrefix(first, tt.err) {
			t.Errorf("capctl %s: exit %d, %q; want %d, %q", strings.Join(tt.args, " "), code, out, tt.code, tt.err)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(l, "capctl: error: ") && !strings.HasPrefix(l, "capctl: hint: ") {
				t.Errorf("capctl %s: stray output line %q", strings.Join(tt.args, " "), l)
			}
		}
	}
	out, code := testenv.Run(t, capctl, "setfile", "cap_chown+ep", file, file+".missing")
	if code != 125 || !strings.HasPrefix(out, "capctl: error: lstat "+file+".missing: no such file or directory") {
		t.Errorf("setfile with a missing file: exit %d, %q", code, out)
	}
	if out, _ := testenv.Run(t, capctl, "getfile", file); out != "" {
		t.Errorf("a failed setfile left capabilities behind: %q", out)
	}

	// A symbolic link is not followed, as setcap does not: in a root
	// filesystem that is an image, its target may be a host file.
	link := filepath.Join(t.TempDir(), "ping")
	os.Symlink(file, link)
	if out, code := testenv.Run(t, capctl, "setfile", "cap_net_raw+ep", link); code == 0 || !strings.Contains(out, "not a regular file") {
		t.Errorf("setfile on a symbolic link: exit %d, %q; want refused", code, out)
	}
	if out, _ := testenv.Run(t, capctl, "getfile", file); out != "" {
		t.Errorf("setfile on a link set the capabilities of its target: %q", out)
	}
	testenv.Run(t, capctl, "setfile", "cap_chown+ep", file)
	if out, code := testenv.Run(t, capctl, "rmfile", link); code == 0 || !strings.Contains(out, "not a regular file") {
		t.Errorf("rmfile on a symbolic link: exit %d, %q; want refused", code, out)
	}
	if out, _ := testenv.Run(t, capctl, "getfile", file); !strings.Contains(out, "cap_chown") {
		t.Errorf("rmfile on a link took the capabilities of its target: %q", out)
	}
}

func TestShowAndDecode(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	sleep := exec.Command(capctl, "run", "--docker-default", "--no-new-privs", "--", "sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	// Wait until the exec happened (the name changes from capctl to
	// sleep): on a loaded host that can take longer than any fixed pause.
	comm := func() string {
		b, _ := os.ReadFile(filepath.Join("/proc", itoa(sleep.Process.Pid), "comm"))
		return strings.TrimSpace(string(b))
	}
	for deadline := time.Now().Add(time.Minute); comm() != "sleep"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("capctl run did not exec sleep within a minute (comm %q)", comm())
		}
	}
	out, code := testenv.Run(t, capctl, "show", itoa(sleep.Process.Pid))
	names := "cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,cap_setpcap,cap_net_bind_service,cap_net_raw,cap_sys_chroot,cap_mknod,cap_audit_write,cap_setfcap"
	for _, want := range []string{
		"(sleep), uid 0",
		"Inheritable  0000000000000000 none\n",
		"Permitted    00000000a80425fb " + names + "\n",
		"Effective    00000000a80425fb " + names + "\n",
		"Bounding     00000000a80425fb " + names + "\n",
		"Ambient      0000000000000000 none\n",
		"NoNewPrivs   1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show: missing %q in (exit %d):\n%s", want, code, out)
		}
	}
	out, _ = testenv.Run(t, capctl, "decode", "00000000a80425fb")
	if out != "0x00000000a80425fb="+names+"\n" {
		t.Errorf("decode = %q", out)
	}
	if capsh, err := exec.LookPath("capsh"); err == nil { // the reference, when installed
		ref, _ := testenv.Run(t, capsh, "--decode=00000fffffffffff")
		mine, _ := testenv.Run(t, capctl, "decode", "00000fffffffffff")
		if ref != mine {
			t.Errorf("decode differs from capsh:\ncapsh:  %s\ncapctl: %s", ref, mine)
		}
	}
}

func TestFileCapsAgainstLibcap(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	setcap := testenv.RequireCommand(t, "setcap")
	getcap := testenv.RequireCommand(t, "getcap")
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o755)
	for _, text := range []string{"cap_net_bind_service=ep", "cap_net_raw,cap_net_admin=eip", "cap_checkpoint_restore,cap_chown=p", "=ep"} {
		// libcap writes, we read.
		if out, code := testenv.Run(t, setcap, text, file); code != 0 {
			t.Fatalf("setcap %s: %s", text, out)
		}
		ref, _ := testenv.Run(t, getcap, file)
		mine, _ := testenv.Run(t, capctl, "getfile", file)
		if norm(ref) != norm(mine) {
			t.Errorf("after setcap %q: getcap %q, capctl getfile %q", text, ref, mine)
		}
		// We write, libcap reads.
		testenv.Run(t, capctl, "rmfile", file)
		if out, code := testenv.Run(t, capctl, "setfile", text, file); code != 0 {
			t.Fatalf("capctl setfile %s: %s", text, out)
		}
		back, _ := testenv.Run(t, getcap, file)
		if back != ref {
			t.Errorf("after capctl setfile %q: getcap %q; want %q", text, back, ref)
		}
	}
	// Revision 3: getcap -n shows the namespace root id.
	if out, code := testenv.Run(t, capctl, "setfile", "--rootid", "100000", "cap_net_raw+ep", file); code != 0 {
		t.Fatalf("setfile --rootid: %s", out)
	}
	ref, _ := testenv.Run(t, getcap, "-n", file)
	mine, _ := testenv.Run(t, capctl, "getfile", file)
	if !strings.Contains(ref, "[rootid=100000]") || mine != file+" cap_net_raw=ep [rootid=100000]\n" {
		t.Errorf("v3: getcap -n %q, capctl getfile %q", ref, mine)
	}
}

// norm sorts the clauses of a getcap line: libcap prints the same sets
// in a shorter form ("cap_a=eip cap_b+ep") than capctl ("cap_a=eip cap_b=ep").
func norm(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "+", "=") }

func itoa(n int) string { return strconv.Itoa(n) }

func TestRunAsNonRoot(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	if err := os.Chmod(filepath.Dir(capctl), 0o755); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	// Nothing to drop: a user without capabilities can still set
	// no_new_privs and exec.
	cmd := exec.Command(capctl, "run", "--no-new-privs", "--", "grep", "-E", "^(CapEff|NoNewPrivs)", "/proc/self/status")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	out, code := testenv.RunCmd(t, cmd)
	if code != 0 || !regexp.MustCompile(`CapEff:\s+0{16}\nNoNewPrivs:\s+1\n`).MatchString(out) {
		t.Errorf("non-root run --no-new-privs: exit %d, %q", code, out)
	}
	// Shrinking the bounding set needs CAP_SETPCAP: a clear error, 125.
	cmd = exec.Command(capctl, "run", "--drop", "CHOWN", "--", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	out, code = testenv.RunCmd(t, cmd)
	if code != 125 || !strings.HasPrefix(out, "capctl: error: drop cap_chown from the bounding set (prctl PR_CAPBSET_DROP): operation not permitted\ncapctl: hint: ") {
		t.Errorf("non-root --drop: exit %d, %q", code, out)
	}
}

func TestPrivilegedMeansAllWeHold(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	// Inside a capctl that dropped CAP_SYS_TIME, --privileged and
	// --cap-add ALL give everything else, and naming CAP_SYS_TIME fails.
	outer := []string{"run", "--drop", "SYS_TIME", "--", capctl}
	mine, err := caps.ReadBounding()
	if err != nil {
		t.Fatal(err)
	}
	want := (mine &^ caps.SetOf(25)).Hex() // CAP_SYS_TIME is bit 25
	for _, inner := range [][]string{
		{"run", "--privileged", "--", "grep", "CapBnd", "/proc/self/status"},
		{"run", "--docker-default", "--cap-add", "ALL", "--", "grep", "CapBnd", "/proc/self/status"},
	} {
		out, code := testenv.Run(t, capctl, append(outer, inner...)...)
		if code != 0 || capLines(out)["CapBnd"] != want {
			t.Errorf("%v: exit %d, %q; want CapBnd %s", inner, code, out, want)
		}
	}
	out, code := testenv.Run(t, capctl, append(outer, "run", "--docker-default", "--cap-add", "SYS_TIME", "--", "true")...)
	if code != 125 || !strings.HasPrefix(out, "capctl: error: cannot give cap_sys_time: capctl does not hold it") {
		t.Errorf("--cap-add of a capability we lack: exit %d, %q", code, out)
	}
}

// TestRunGroupsAsDocker: the supplementary groups `docker run` gives, as
// /proc/self/status shows them: the GID always (root: 0; -u 1000:1000:
// 1000; -u 1000, unknown to /etc/passwd: gid 0, groups 0), plus the
// user's /etc/group memberships without an explicit group. Without
// --user, --docker-default runs as Docker's default user (uid 0 of the
// root's /etc/passwd), not with the groups of whoever started capctl.
func TestRunGroupsAsDocker(t *testing.T) {
	testenv.Integration(t)
	capctl := testenv.Bin(t, "capctl")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/usr/sbin:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\ndaemon:x:1:\nadm:x:4:daemon\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t0 \n"},
		{[]string{"--user", "1000:1000"}, "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 \n"},
		{[]string{"--user", "1000"}, "Uid:\t1000\t1000\t1000\t1000\nGid:\t0\t0\t0\t0\nGroups:\t0 \n"},
		{[]string{"--user", "daemon"}, "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t1 4 \n"},
		{[]string{"--user", "daemon:daemon", "--group-add", "daemon"}, "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t1 \n"},
	}
	for _, tt := range tests {
		args := append([]string{"run", "--root", root, "--docker-default"}, tt.args...)
		cmd := exec.Command(capctl, append(args, "--", "grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status")...)
		// Start with groups Docker would never give, to see they go.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{4242, 27}}}
		out, code := testenv.RunCmd(t, cmd)
		if code != 0 || out != tt.want {
			t.Errorf("capctl %v: exit %d\n%q\nwant\n%q", tt.args, code, out, tt.want)
		}
	}
}
