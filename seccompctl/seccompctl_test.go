package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/seccompctl/seccomp"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// result runs a command and returns its combined output, exit code and
// the signal that killed it (0 if none).
func result(t *testing.T, cmd *exec.Cmd) (string, int, syscall.Signal) {
	t.Helper()
	out, code := testenv.RunCmd(t, cmd)
	var sig syscall.Signal
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig = ws.Signal()
	}
	return out, code, sig
}

// mkdirCall is the system call mkdir(1) makes here: arm64 has only mkdirat.
func mkdirCall() string {
	if runtime.GOARCH == "arm64" {
		return "mkdirat"
	}
	return "mkdir"
}

// Done when: `seccompctl run --deny mkdir -- mkdir DIR` fails with EPERM
// and DIR does not exist.
func TestDenyMkdir(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	dir := filepath.Join(t.TempDir(), "DIR")
	out, code, _ := result(t, exec.Command(bin, "run", "--deny", mkdirCall(), "--", "mkdir", dir))
	if code != 1 || !strings.Contains(out, "Operation not permitted") {
		t.Fatalf("exit %d, output %q; want mkdir's EPERM message and exit 1", code, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("DIR exists after a denied mkdir: %v", err)
	}
	// The same command without a filter works: the filter made the difference.
	if out, code, _ := result(t, exec.Command(bin, "run", "--profile", "unconfined", "--", "mkdir", dir)); code != 0 {
		t.Fatalf("unconfined mkdir: exit %d: %s", code, out)
	}
}

func TestDenyActions(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	cases := []struct {
		flags   []string
		code    int
		sig     syscall.Signal
		created bool
		output  string
	}{
		{[]string{"--errno", "EACCES"}, 1, 0, false, "Permission denied"},
		{[]string{"--errno", "28"}, 1, 0, false, "No space left on device"},
		{[]string{"--kill"}, -1, syscall.SIGSYS, false, ""},
		{[]string{"--trap"}, -1, syscall.SIGSYS, false, ""},
		{[]string{"--log"}, 0, 0, true, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.flags, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "DIR")
			args := append([]string{"run", "--deny", mkdirCall()}, c.flags...)
			out, code, sig := result(t, exec.Command(bin, append(args, "--", "mkdir", dir)...))
			if code != c.code || sig != c.sig || !strings.Contains(out, c.output) {
				t.Fatalf("exit %d signal %v output %q; want exit %d signal %v output with %q", code, sig, out, c.code, c.sig, c.output)
			}
			if _, err := os.Stat(dir); (err == nil) != c.created {
				t.Fatalf("DIR created: %v, want %v", err == nil, c.created)
			}
		})
	}
}

// probe runs the syscalls helper under seccompctl with args and returns
// its results by name.
func probe(t *testing.T, args ...string) map[string]string {
	t.Helper()
	bin := testenv.Bin(t, "seccompctl")
	helper := testenv.Bin(t, "syscalls")
	cmd := exec.Command(bin, append(append([]string{"run"}, args...), "--", helper)...)
	cmd.Dir = t.TempDir()
	out, code, sig := result(t, cmd)
	if code != 0 {
		t.Fatalf("syscalls under %v: exit %d signal %v:\n%s", args, code, sig, out)
	}
	return parseProbe(t, out)
}

func parseProbe(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, res, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("probe line %q is not NAME: RESULT", line)
		}
		got[name] = res
	}
	return got
}

// What Docker's default profile gives a container with Docker's default
// capabilities, probe by probe.
var dockerDefaultWant = map[string]string{
	"unshare_newuser":               "EPERM",
	"mount":                         "EPERM",
	"keyctl":                        "EPERM",
	"personality_read_implies_exec": "EPERM",
	"socket_vsock":                  "EPERM",
	"socket_alg":                    "EPERM",
	"clone3":                        "ENOSYS",
	"reboot":                        "EPERM",
	"ptrace":                        "ESRCH", // allowed (kernel >= 4.8): the kernel itself answers
	"file":                          "OK",
	"dir":                           "OK",
	"process":                       "OK",
	"socket_unix":                   "OK",
	"socket_inet":                   "OK",
}

func assertProbe(t *testing.T, got, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %s", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("probe printed %d results, want %d: %v", len(got), len(want), got)
	}
}

// Done when: under --profile default, the probe gets EPERM for the risky
// calls, ENOSYS for clone3, and ordinary work succeeds. The probe runs as
// root: the refusals come from the filter alone, compiled for Docker's
// default capabilities (--caps), not from missing capabilities.
func TestDefaultProfileProbe(t *testing.T) {
	testenv.Integration(t)
	assertProbe(t, probe(t, "--profile", "default"), dockerDefaultWant)

	// Unconfined, the same probe gets past the filter: what it gets
	// instead is the kernel's own answer.
	free := probe(t, "--profile", "unconfined")
	for _, name := range []string{"mount", "unshare_newuser", "clone3", "reboot", "personality_read_implies_exec"} {
		if free[name] == dockerDefaultWant[name] {
			t.Errorf("%s: %s even without a filter: the test proves nothing for it", name, free[name])
		}
	}
	// Keeping CAP_SYS_ADMIN (--caps) opens the gated calls: mount reaches
	// the kernel, which answers ENOENT for the missing mount point.
	withAdmin := probe(t, "--profile", "default", "--caps", strings.Join(append(seccomp.DockerDefaultCaps, "CAP_SYS_ADMIN"), ","))
	if withAdmin["mount"] != "ENOENT" || withAdmin["clone3"] != "EINVAL" {
		t.Errorf("with CAP_SYS_ADMIN kept: mount %s, clone3 %s; want ENOENT, EINVAL from the kernel", withAdmin["mount"], withAdmin["clone3"])
	}
}

// check and the kernel agree: for each risky call of the probe, the
// interpreter's verdict is the errno the kernel returned.
func TestCheckAgreesWithKernel(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	got := probe(t, "--profile", "default")
	calls := map[string][]string{
		"unshare_newuser":               {"unshare", "0x10000000"},
		"mount":                         {"mount"},
		"keyctl":                        {"keyctl", "0", "0xfffffffd"},
		"personality_read_implies_exec": {"personality", "0x400000"},
		"clone3":                        {"clone3", "0", "0"},
		"socket_vsock":                  {"socket", "40", "0x80001"},
		"socket_alg":                    {"socket", "38", "0x80005"},
		"socket_inet":                   {"socket", "2", "0x80001"},
		"reboot":                        {"reboot", "0", "0"},
	}
	for probeName, call := range calls {
		out, code, _ := result(t, exec.Command(bin, append([]string{"check", "default"}, call...)...))
		if code != 0 {
			t.Fatalf("check %v: exit %d: %s", call, code, out)
		}
		verdict := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
		want := "ALLOW"
		if e := got[probeName]; strings.HasPrefix(e, "E") && dockerDefaultWant[probeName] == e && e != "ESRCH" {
			want = "ERRNO(" + e + ")"
		}
		if verdict != want {
			t.Errorf("%s: check says %s, the kernel gave %s", probeName, verdict, got[probeName])
		}
	}
}

// Every operator, 64-bit values included, gives the same answer in the
// kernel and in check: getppid ignores its arguments, so any errno it
// returns comes from the filter.
func TestOperatorsAgreeWithKernel(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	helper := testenv.Bin(t, "syscalls")
	arch, err := seccomp.NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	nr, _ := arch.Number("getppid")
	ops := []struct{ op, value, valueTwo string }{
		{"SCMP_CMP_EQ", "4294967304", ""}, // 1<<32 | 8
		{"SCMP_CMP_NE", "8", ""},
		{"SCMP_CMP_LT", "4294967296", ""},
		{"SCMP_CMP_LE", "8", ""},
		{"SCMP_CMP_GT", "4294967295", ""},
		{"SCMP_CMP_GE", "4294967304", ""},
		{"SCMP_CMP_MASKED_EQ", "18446744069414584335", "4294967304"}, // 0xffffffff0000000f, 1<<32|8
	}
	values := []string{"0", "8", "0xffffffff", "0x100000000", "0x100000008", "0x200000008", "0xffffffffffffffff"}
	for _, o := range ops {
		v2 := ""
		if o.valueTwo != "" {
			v2 = `, "valueTwo": ` + o.valueTwo
		}
		profile := filepath.Join(t.TempDir(), "ops.json")
		os.WriteFile(profile, []byte(fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
			{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 15,
			 "args": [{"index": 3, "value": %s%s, "op": %q}]}]}`, o.value, v2, o.op)), 0o644)
		for _, v := range values {
			out, code, _ := result(t, exec.Command(bin, "run", "--profile", profile, "--", helper, "raw", fmt.Sprint(nr), "0", "0", "0", v))
			if code != 0 {
				t.Fatalf("%s %s: exit %d: %s", o.op, v, code, out)
			}
			kernel := strings.TrimSpace(out[strings.Index(out, ": ")+2:])
			out, _, _ = result(t, exec.Command(bin, "check", profile, "getppid", "0", "0", "0", v))
			verdict := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
			want := map[string]string{"OK": "ALLOW", "ENOTBLK": "ERRNO(ENOTBLK)"}[kernel]
			if verdict != want {
				t.Errorf("%s %s: args[3]=%s: kernel %s, check %s", o.op, o.value, v, kernel, verdict)
			}
		}
	}
}

// Done when: a foreign-architecture call (int 0x80 on x86_64) is refused.
func TestInt80Refused(t *testing.T) {
	testenv.Integration(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("int 0x80 is x86_64's 32-bit entry point")
	}
	bin := testenv.Bin(t, "seccompctl")
	helper := testenv.Bin(t, "syscalls")
	out, code, _ := result(t, exec.Command(bin, "run", "--profile", "unconfined", "--", helper, "int80"))
	testenv.RequireFeature(t, code == 0 && strings.HasPrefix(out, "int80_getpid: OK"),
		"the kernel has no 32-bit x86 emulation (CONFIG_IA32_EMULATION / ia32_emulation=0): "+out)
	for _, flags := range [][]string{{"--profile", "default"}, {"--deny", mkdirCall()}} {
		out, _, sig := result(t, exec.Command(bin, append(append([]string{"run"}, flags...), "--", helper, "int80")...))
		if sig != syscall.SIGSYS {
			t.Errorf("int 0x80 under %v: %q, signal %v; want killed by SIGSYS", flags, out, sig)
		}
		// An x32 call: getpid (39) with __X32_SYSCALL_BIT, through the
		// ordinary 64-bit entry point. Without a filter the kernel runs it
		// or answers ENOSYS (no x32 support); with one, it kills.
		x32getpid := fmt.Sprint(0x40000000 | 39)
		out, _, sig = result(t, exec.Command(bin, append(append([]string{"run"}, flags...), "--", helper, "raw", x32getpid)...))
		if sig != syscall.SIGSYS {
			t.Errorf("x32 getpid under %v: %q, signal %v; want killed by SIGSYS", flags, out, sig)
		}
	}
	out, code, sig := result(t, exec.Command(bin, "run", "--profile", "unconfined", "--", helper, "raw", fmt.Sprint(0x40000000|39)))
	if code != 0 || sig != 0 {
		t.Errorf("x32 getpid without a filter: exit %d signal %v: %s", code, sig, out)
	}
}

// Policy changes of Docker's default profile newer than some engines: an
// engine older than the version given still lets the call through.
var dockerProfileChanges = map[string]struct {
	major int
	why   string
}{
	"socket_vsock": {23, "AF_VSOCK blocked by moby#44562 (Docker 23.0; Debian's 20.10.24 lacks the backport)"},
	"socket_alg":   {30, "AF_ALG blocked by moby#52494 (2026, CVE-2026-31431; backported to 29.x)"},
}

// The same probe under Docker's own engine: with Docker's built-in
// default profile it gets the same answers (but for policy changes newer
// than the engine, checked against its version), and with our
// default.json passed as --security-opt seccomp=FILE exactly the same
// answers, since Docker reads the file unchanged. No engine, no test: it
// says so loudly, and fails under CI=true.
func TestDockerEngineSameResults(t *testing.T) {
	testenv.Integration(t)
	version := testenv.RequireDockerEngine(t) // under CI=true, no engine fails
	helper := testenv.Bin(t, "syscalls")
	var major int
	fmt.Sscanf(version, "%d", &major)

	// A one-file image holding the static probe, made offline.
	dir := t.TempDir()
	data, err := os.ReadFile(helper)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "syscalls"), data, 0o755)
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o1777)
	image := fmt.Sprintf("mini-docker-syscalls-probe:%d", os.Getpid())
	imp := exec.Command("sh", "-c", "tar -C "+dir+" -c syscalls tmp | docker import - "+image)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	run := func(opts ...string) map[string]string {
		args := append(append([]string{"run", "--rm", "--network", "none"}, opts...), image, "/syscalls")
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return parseProbe(t, string(out))
	}

	builtin := run()
	for name, want := range dockerDefaultWant {
		if c, ok := dockerProfileChanges[name]; ok && major < c.major && builtin[name] != want {
			t.Logf("NOTE: Docker %s gives %s: %s, not %s: %s", version, name, builtin[name], want, c.why)
			continue
		}
		if builtin[name] != want {
			t.Errorf("Docker's built-in profile: %s: %s, want %s", name, builtin[name], want)
		}
	}
	assertProbe(t, run("--security-opt", "seccomp="+filepath.Join(testenv.RepoRoot(), "seccompctl/seccomp/profiles/default.json")), dockerDefaultWant)
}

// Installing a filter needs CAP_SYS_ADMIN or no_new_privs: root keeps
// no_new_privs off; an unprivileged user gets it set first.
func TestNoNewPrivsOnlyWithoutCapSysAdmin(t *testing.T) {
	testenv.Integration(t)
	src := testenv.Bin(t, "seccompctl")
	// Copy the binary where an unprivileged user may run it.
	dir, err := os.MkdirTemp("", "seccompctl-nnp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "seccompctl")
	data, _ := os.ReadFile(src)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		uid       uint32
		nnp       string
		explained bool
	}{{0, "0", false}, {65534, "1", true}} {
		cmd := exec.Command(bin, "run", "--explain", "--deny", mkdirCall(), "--", "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.uid}}
		out, code, _ := result(t, cmd)
		if code != 0 {
			t.Fatalf("uid %d: exit %d: %s", c.uid, code, out)
		}
		if !strings.Contains(out, "NoNewPrivs:\t"+c.nnp) || !strings.Contains(out, "Seccomp:\t2") {
			t.Errorf("uid %d: %q; want NoNewPrivs %s and Seccomp 2 (filter mode)", c.uid, out, c.nnp)
		}
		if strings.Contains(out, "+ setpriv --no-new-privs") != c.explained {
			t.Errorf("uid %d: --explain output %q: setpriv shown should be %v", c.uid, out, c.explained)
		}
		if !strings.Contains(out, "+ seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC") {
			t.Errorf("uid %d: --explain does not show the seccomp call: %q", c.uid, out)
		}
	}
}

func TestBadInput(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	bad := write("bad.json", "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [ {\"names\": [\"read\"] \"action\": \"SCMP_ACT_ALLOW\"} ]\n}\n")
	badAction := write("action.json", "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [\n  {\"names\": [\"read\"], \"action\": \"SCMP_ACT_PERMIT\"}]}")
	badOp := write("op.json", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`)
	var huge strings.Builder
	huge.WriteString(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [`)
	for i := 0; i < 1500; i++ {
		if i > 0 {
			huge.WriteString(",")
		}
		fmt.Fprintf(&huge, `{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": %d, "op": "SCMP_CMP_EQ"}]}`, i)
	}
	huge.WriteString("]}")
	hugeFile := write("huge.json", huge.String())
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown syscall", []string{"run", "--deny", "mkdri", "--", "true"}, 125, "seccompctl: error: deny mkdri: unknown system call"},
		{"malformed JSON", []string{"run", "--profile", bad, "--", "true"}, 125, "bad.json:3:"},
		{"unknown action", []string{"run", "--profile", badAction, "--", "true"}, 125, `action.json:3: syscalls[0]: action: unknown action "SCMP_ACT_PERMIT"`},
		{"unknown operator", []string{"run", "--profile", badOp, "--", "true"}, 125, `unknown operator "SCMP_CMP_LIKE"`},
		{"too many rules", []string{"run", "--profile", hugeFile, "--", "true"}, 125, "BPF_MAXINSNS"},
		{"missing profile", []string{"run", "--profile", filepath.Join(dir, "nope.json"), "--", "true"}, 125, "no such file"},
		{"unknown cap", []string{"run", "--caps", "CHOWN,FLY", "--", "true"}, 125, `unknown capability "FLY"`},
		{"errno without deny", []string{"run", "--errno", "EPERM", "--", "true"}, 125, "--errno only goes with --deny"},
		{"deny and profile", []string{"run", "--profile", "default", "--deny", "mkdir", "--", "true"}, 125, "cannot be combined"},
		{"two actions", []string{"run", "--deny", "mkdir", "--kill", "--log", "--", "true"}, 125, "choose one"},
		{"bad errno", []string{"run", "--deny", "mkdir", "--errno", "EWHAT", "--", "true"}, 125, `unknown errno "EWHAT"`},
		{"no command", []string{"run", "--deny", "mkdir"}, 125, "no command given"},
		{"command not found", []string{"run", "--", "/nonexistent/cmd"}, 127, "no such file"},
		{"check unknown call", []string{"check", "default", "frobnicate"}, 125, `unknown system call "frobnicate"`},
		{"check bad arg", []string{"check", "default", "socket", "AF_INET"}, 125, "not a number"},
		{"unknown command", []string{"frob"}, 125, `unknown command "frob"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code, _ := result(t, exec.Command(bin, c.args...))
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out, c.code, c.want)
			}
			if strings.Count(strings.TrimSpace(out), "\n") > 1 {
				t.Errorf("more than an error and a hint line:\n%s", out)
			}
		})
	}
	// A name that is no system call anywhere is skipped with a warning,
	// as Docker skips it; the command still runs.
	typo := write("typo.json", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]}`)
	out, code, _ := result(t, exec.Command(bin, "run", "--profile", typo, "--", "true"))
	if code != 0 || !strings.Contains(out, `warning: `+typo+`: unknown system call "mkdri" skipped`) {
		t.Errorf("typo profile: exit %d, %q", code, out)
	}
}

func TestCheckAndDumpCommands(t *testing.T) {
	testenv.Integration(t)
	bin := testenv.Bin(t, "seccompctl")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "default", "personality", "0x400000"}, "personality(0x400000): ERRNO(EPERM)\n"},
		{[]string{"check", "default", "socket", "40"}, "socket(0x28): ERRNO(EPERM)\n"},
		{[]string{"check", "default", "clone3"}, "clone3: ERRNO(ENOSYS)\n"},
		{[]string{"check", "--caps", "ALL", "default", "mount"}, "mount: ALLOW\n"},
		{[]string{"check", "--deny", "mkdir", "--arch", "amd64", "mkdir"}, "mkdir: ERRNO(EPERM)\n"},
		{[]string{"check", "unconfined", "mount"}, "mount: ALLOW (unconfined: no filter)\n"},
	} {
		out, code, _ := result(t, exec.Command(bin, c.args...))
		if code != 0 || out != c.want {
			t.Errorf("%v: exit %d, %q; want %q", c.args, code, out, c.want)
		}
	}
	// The command prints what the package's golden file holds.
	out, code, _ := result(t, exec.Command(bin, "dump", "--arch", "amd64", "--kernel", "6.1", "--deny", "mkdir,unshare"))
	want, _ := os.ReadFile("seccomp/testdata/deny_mkdir_unshare_amd64.golden")
	if code != 0 || out != string(want) {
		t.Errorf("dump --deny mkdir,unshare: exit %d\n%s\nwant\n%s", code, out, want)
	}
}

// A second implementation agrees: runc, compiling the same resolved
// profile with libseccomp (seccompctl dump --oci, what dockerd would hand
// it), gives the probe the same answers as seccompctl's own compiler.
func TestRuncWithLibseccompAgrees(t *testing.T) {
	testenv.Integration(t)
	runc := testenv.RequireCommand(t, "runc")
	bin := testenv.Bin(t, "seccompctl")
	helper := testenv.Bin(t, "syscalls")

	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"proc", "dev", "sys", "tmp"} {
		os.MkdirAll(filepath.Join(rootfs, d), 0o755)
	}
	data, err := os.ReadFile(helper)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rootfs, "syscalls"), data, 0o755)
	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v\n%s", err, out)
	}
	ociSeccomp, err := exec.Command(bin, "dump", "--oci", "default").Output()
	if err != nil {
		t.Fatalf("dump --oci: %v", err)
	}

	var config map[string]any
	raw, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err := json.Unmarshal(raw, &config); err != nil {
		t.Fatal(err)
	}
	var sc any
	json.Unmarshal(ociSeccomp, &sc)
	process := config["process"].(map[string]any)
	process["terminal"] = false
	process["args"] = []string{"/syscalls"}
	process["env"] = []string{"PATH=/", "TMPDIR=/dev/shm"}
	caps := seccomp.DockerDefaultCaps
	process["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps}
	process["noNewPrivileges"] = false // as Docker: the filter goes on while CAP_SYS_ADMIN is still held
	config["linux"].(map[string]any)["seccomp"] = sc
	raw, _ = json.Marshal(config)
	os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o644)

	state := t.TempDir()
	id := fmt.Sprintf("seccompctl-test-%d", os.Getpid())
	cmd := exec.Command(runc, "--root", state, "run", "--bundle", bundle, id)
	testenv.NoNewMounts(t)
	t.Cleanup(func() {
		exec.Command(runc, "--root", state, "delete", "--force", id).Run()
		if left, _ := filepath.Glob("/sys/fs/cgroup/*/" + id); len(left) > 0 {
			t.Errorf("runc left cgroups behind: %v", left)
		}
	})
	out, code, _ := result(t, cmd)
	if code != 0 {
		t.Fatalf("runc run: exit %d\n%s", code, out)
	}
	t.Logf("the probe under runc + libseccomp:\n%s", out)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, ": ") && !strings.Contains(l, "level=") { // runc's own warnings aside
			lines = append(lines, l)
		}
	}
	assertProbe(t, parseProbe(t, strings.Join(lines, "\n")), dockerDefaultWant)
}
