package seccomp

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite the golden files of the dump tests")

// The generated tables must be what `go generate` makes from the x/sys
// version go.mod pins: nobody edits them by hand.
func TestTablesAreGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go generate's program: skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "z.go")
	cmd := exec.Command("go", "run", "./internal/mksyscalls", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mksyscalls: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("zsyscalls.go")
	if string(want) != string(got) {
		t.Fatal("zsyscalls.go is stale: run go generate ./seccompctl/seccomp/")
	}
}

func TestTables(t *testing.T) {
	for _, c := range []struct {
		arch *Arch
		name string
		nr   uint32
	}{
		{archAMD64, "read", 0}, {archAMD64, "mkdir", 83}, {archAMD64, "openat", 257},
		{archAMD64, "clone3", 435}, {archAMD64, "getppid", 110}, {archAMD64, "personality", 135},
		{archARM64, "openat", 56}, {archARM64, "mkdirat", 34}, {archARM64, "newfstatat", 79},
		{archARM64, "clone3", 435},
	} {
		nr, ok := c.arch.Number(c.name)
		if !ok || nr != c.nr {
			t.Errorf("%s %s = %d, %v; want %d", c.arch.Name, c.name, nr, ok, c.nr)
		}
		if n, _ := c.arch.SyscallName(c.nr); n != c.name {
			t.Errorf("%s %d is %q, want %q", c.arch.Name, c.nr, n, c.name)
		}
	}
	if _, ok := archARM64.Number("mkdir"); ok {
		t.Error("arm64 has no mkdir system call, only mkdirat")
	}
	if !KnownName("chown32") || KnownName("mkdri") {
		t.Error("KnownName: chown32 is a system call (on i386), mkdri is not")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, json, want string
	}{
		{"truncated", `{"defaultAction": "SCMP_ACT_ALLOW",`, "p.json:1:"},
		{"syntax", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n  \"syscalls\": []\n}", "p.json:3:3: malformed JSON"},
		{"wrong type", "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": \"EPERM\"}]}", "p.json:2: syscalls.errnoRet: a JSON string where a number belongs"},
		{"no default", `{"syscalls": []}`, "defaultAction: missing"},
		{"unknown default", `{"defaultAction": "SCMP_ACT_MAYBE"}`, `defaultAction: unknown action "SCMP_ACT_MAYBE"`},
		{"unknown action", "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [\n{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},\n  {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_DENY\"}]}", `p.json:4: syscalls[1]: action: unknown action "SCMP_ACT_DENY"`},
		{"notify", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`, "SCMP_ACT_NOTIFY needs a listener"},
		{"unknown op", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}`, `syscalls[0]: args[0].op: unknown operator "SCMP_CMP_ABOUT"`},
		{"index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "args[0].index: 6"},
		{"no names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`, "syscalls[0]: names: no system call named"},
		{"cap", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_WIZARD"]}}]}`, `unknown capability "CAP_SYS_WIZARD"`},
		{"kernel", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]}`, `minKernel: kernel version "four"`},
		{"arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`, `unknown architecture "SCMP_ARCH_Z80"`},
		// Found by FuzzProfile: the kernel caps an errno at 4095, so check
		// would have said ERRNO(4464) while mkdir got error 4095.
		{"errno too large", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]}`, "syscalls[0]: errnoRet: errno 70000 is too large: the kernel returns at most 4095 (MAX_ERRNO)"},
		{"default errno too large", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4096}`, "defaultErrnoRet: errno 4096 is too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseProfile([]byte(c.json), "p.json")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// check compiles p for amd64 with caps and says what a call gets.
func check(t *testing.T, p *Profile, caps string, kernel string, name string, args ...uint64) string {
	t.Helper()
	cs, err := ParseCaps(caps)
	if err != nil {
		t.Fatal(err)
	}
	_, prog, err := Build(p, Options{Arch: archAMD64, Caps: cs, Kernel: kernel})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Check(prog, archAMD64, name, args)
	if err != nil {
		t.Fatal(err)
	}
	return RetString(r)
}

const dockerCaps = "CHOWN,DAC_OVERRIDE,FSETID,FOWNER,MKNOD,NET_RAW,SETGID,SETUID,SETFCAP,SETPCAP,NET_BIND_SERVICE,SYS_CHROOT,KILL,AUDIT_WRITE"

// The built-in profile gives what Docker's default gives, for a
// container with Docker's capabilities and for one with all of them.
func TestDefaultProfilePolicy(t *testing.T) {
	p := DefaultProfile()
	const (
		sigchld  = 17
		newuser  = unix.CLONE_NEWUSER | sigchld
		thread   = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM
		afALG    = 38
		afVSOCK  = 40
		readExec = 0x0400000
	)
	for _, c := range []struct {
		caps, kernel, name string
		args               []uint64
		want               string
	}{
		{dockerCaps, "6.1", "read", nil, "ALLOW"},
		{dockerCaps, "6.1", "mkdir", nil, "ALLOW"},
		{dockerCaps, "6.1", "mount", nil, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "unshare", []uint64{unix.CLONE_NEWUSER}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "keyctl", nil, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "clone3", nil, "ERRNO(ENOSYS)"},
		{dockerCaps, "6.1", "clone", []uint64{thread}, "ALLOW"},
		{dockerCaps, "6.1", "clone", []uint64{sigchld}, "ALLOW"},
		{dockerCaps, "6.1", "clone", []uint64{newuser}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "clone", []uint64{unix.CLONE_NEWNET}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "clone", []uint64{1 << 40}, "ALLOW"}, // high half is outside the mask
		{dockerCaps, "6.1", "personality", []uint64{0}, "ALLOW"},
		{dockerCaps, "6.1", "personality", []uint64{8}, "ALLOW"},
		{dockerCaps, "6.1", "personality", []uint64{0xffffffff}, "ALLOW"},
		{dockerCaps, "6.1", "personality", []uint64{0x1_ffffffff}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "personality", []uint64{readExec}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "socket", []uint64{unix.AF_INET}, "ALLOW"},
		{dockerCaps, "6.1", "socket", []uint64{37}, "ALLOW"},
		{dockerCaps, "6.1", "socket", []uint64{afALG}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "socket", []uint64{39}, "ALLOW"},
		{dockerCaps, "6.1", "socket", []uint64{afVSOCK}, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "socket", []uint64{41}, "ALLOW"},
		{dockerCaps, "6.1", "socket", []uint64{1<<32 | afALG}, "ALLOW"},
		{dockerCaps, "6.1", "ptrace", nil, "ALLOW"},
		{dockerCaps, "4.4", "ptrace", nil, "ERRNO(EPERM)"}, // minKernel 4.8
		{dockerCaps, "6.1", "chroot", nil, "ALLOW"},        // CAP_SYS_CHROOT kept
		{dockerCaps, "6.1", "reboot", nil, "ERRNO(EPERM)"},
		{dockerCaps, "6.1", "arch_prctl", nil, "ALLOW"},
		{dockerCaps, "6.1", "kexec_load", nil, "ERRNO(EPERM)"},
		{"", "6.1", "chroot", nil, "ERRNO(EPERM)"},
		{"ALL", "6.1", "mount", nil, "ALLOW"},
		{"ALL", "6.1", "clone", []uint64{newuser}, "ALLOW"},
		{"ALL", "6.1", "clone3", nil, "ALLOW"},
		{"ALL", "6.1", "reboot", nil, "ALLOW"},
		{dockerCaps + ",SYS_ADMIN", "6.1", "unshare", nil, "ALLOW"},
	} {
		got := check(t, p, c.caps, c.kernel, c.name, c.args...)
		if got != c.want {
			t.Errorf("caps %.20q kernel %s: %s%x = %s, want %s", c.caps, c.kernel, c.name, c.args, got, c.want)
		}
	}
}

// The architecture check comes first: a call from another ABI, or an
// x32 call on x86_64, is killed whatever its number.
func TestArchitectureCheck(t *testing.T) {
	_, prog, err := Build(DefaultProfile(), Options{Arch: archAMD64, Kernel: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    Data
		want string
	}{
		{Data{Nr: 39, Arch: unix.AUDIT_ARCH_X86_64}, "ALLOW"},                        // getpid
		{Data{Nr: 20, Arch: unix.AUDIT_ARCH_I386}, "KILL_PROCESS"},                   // int 0x80 getpid
		{Data{Nr: 39 | x32SyscallBit, Arch: unix.AUDIT_ARCH_X86_64}, "KILL_PROCESS"}, // x32 getpid
		{Data{Nr: 172, Arch: unix.AUDIT_ARCH_AARCH64}, "KILL_PROCESS"},
		{Data{Nr: 9999, Arch: unix.AUDIT_ARCH_X86_64}, "ERRNO(EPERM)"},       // unknown number: the default
		{Data{Nr: 0xffffffff, Arch: unix.AUDIT_ARCH_X86_64}, "ERRNO(EPERM)"}, // -1: no call, the default
	} {
		r, err := Run(prog.Insns, &c.d)
		if err != nil {
			t.Fatal(err)
		}
		if got := RetString(r); got != c.want {
			t.Errorf("%+v: %s, want %s", c.d, got, c.want)
		}
	}
}

// Every operator, on values chosen around the boundaries of both 32-bit
// halves, gives what the same comparison on 64-bit numbers gives in Go.
func TestArgumentOperators(t *testing.T) {
	values := []uint64{0, 1, 7, 8, 9, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
		1 << 32, 1<<32 | 8, 1<<32 | 0xffffffff, 0x8_00000008, 0xffffffff_00000000, 0xffffffff_ffffffff}
	refs := []uint64{0, 8, 0xffffffff, 1<<32 | 8, 0xffffffff_ffffffff}
	eval := map[Operator]func(a, v, v2 uint64) bool{
		OpEQ: func(a, v, _ uint64) bool { return a == v }, OpNE: func(a, v, _ uint64) bool { return a != v },
		OpLT: func(a, v, _ uint64) bool { return a < v }, OpLE: func(a, v, _ uint64) bool { return a <= v },
		OpGT: func(a, v, _ uint64) bool { return a > v }, OpGE: func(a, v, _ uint64) bool { return a >= v },
		OpMaskedEQ: func(a, v, v2 uint64) bool { return a&v == v2 },
	}
	for op, f := range eval {
		for _, ref := range refs {
			for argIdx := uint(0); argIdx < 6; argIdx += 5 {
				cond := Arg{Index: argIdx, Value: ref, Op: op}
				if op == OpMaskedEQ {
					cond.ValueTwo = ref & 0xff000000_0000000f
				}
				e := uint(unix.ENOTBLK)
				p := &Profile{Source: "ops", DefaultAction: ActAllow,
					Syscalls: []Syscall{{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e, Args: []Arg{cond}}}}
				_, prog, err := Build(p, Options{Arch: archAMD64, Kernel: "6.1"})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range values {
					var args [6]uint64
					args[argIdx] = a
					r, err := Run(prog.Insns, &Data{Nr: 110, Arch: unix.AUDIT_ARCH_X86_64, Args: args})
					if err != nil {
						t.Fatal(err)
					}
					got := r == unix.SECCOMP_RET_ERRNO|uint32(unix.ENOTBLK)
					if want := f(a, cond.Value, cond.ValueTwo); got != want {
						t.Errorf("%s: args[%d]=%#x, value %#x, valueTwo %#x: matched=%v, want %v",
							op, argIdx, a, cond.Value, cond.ValueTwo, got, want)
					}
				}
			}
		}
	}
}

// Rules are tried in profile order, several conditions of a rule must
// all hold, and a rule without conditions ends the search.
func TestRuleOrder(t *testing.T) {
	e1, e2 := uint(unix.EACCES), uint(unix.ENOTBLK)
	p := &Profile{Source: "order", DefaultAction: ActAllow, Syscalls: []Syscall{
		{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e1, Args: []Arg{{Index: 0, Value: 1, Op: OpEQ}, {Index: 1, Value: 2, Op: OpEQ}}},
		{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e2, Args: []Arg{{Index: 0, Value: 1, Op: OpEQ}}},
		{Names: []string{"getppid"}, Action: ActKillProcess},
		{Names: []string{"getppid"}, Action: ActLog},
	}}
	for _, c := range []struct {
		a0, a1 uint64
		want   string
	}{{1, 2, "ERRNO(EACCES)"}, {1, 3, "ERRNO(ENOTBLK)"}, {0, 2, "KILL_PROCESS"}} {
		if got := check(t, p, "", "6.1", "getppid", c.a0, c.a1); got != c.want {
			t.Errorf("getppid(%d, %d) = %s, want %s", c.a0, c.a1, got, c.want)
		}
	}
}

func TestActions(t *testing.T) {
	for _, c := range []struct {
		act  Action
		want string
	}{
		{ActAllow, "ALLOW"}, {ActErrno, "ERRNO(EPERM)"}, {ActKill, "KILL_THREAD"},
		{ActKillThread, "KILL_THREAD"}, {ActKillProcess, "KILL_PROCESS"}, {ActTrap, "TRAP"},
		{ActLog, "LOG"}, {ActTrace, "TRACE(1)"},
	} {
		p := &Profile{Source: "a", DefaultAction: ActAllow, Syscalls: []Syscall{{Names: []string{"mkdir"}, Action: c.act}}}
		if got := check(t, p, "", "6.1", "mkdir"); got != c.want {
			t.Errorf("%s: %s, want %s", c.act, got, c.want)
		}
	}
	two := uint(2)
	p := &Profile{Source: "a", DefaultAction: ActErrno, DefaultErrnoRet: &two}
	if got := check(t, p, "", "6.1", "mkdir"); got != "ERRNO(ENOENT)" {
		t.Errorf("defaultErrnoRet 2: %s", got)
	}
}

// A rule list far longer than a conditional jump reaches (255
// instructions) still compiles into a program whose every jump lands
// where it should; one longer than the kernel's limit is refused.
func TestLongPrograms(t *testing.T) {
	e := uint(unix.ENOTBLK)
	var rules []Syscall
	for i := 0; i < 400; i++ {
		rules = append(rules, Syscall{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e,
			Args: []Arg{{Index: 0, Value: uint64(i * 3), Op: OpEQ}}})
	}
	// getpgrp's rules start with a load, not a return, so the jump to them
	// from the dispatch must become a long "ja".
	rules = append(rules, Syscall{Names: []string{"getpgrp"}, Action: ActKillProcess, Args: []Arg{{Index: 0, Value: 7, Op: OpEQ}}})
	p := &Profile{Source: "long", DefaultAction: ActAllow, Syscalls: rules}
	_, prog, err := Build(p, Options{Arch: archAMD64, Kernel: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Insns) < 1000 {
		t.Fatalf("only %d instructions: the test does not exercise long jumps", len(prog.Insns))
	}
	for i, in := range prog.Insns {
		offs := []int{int(in.Jt), int(in.Jf)}
		if in.Code == ja {
			offs = []int{int(in.K)}
		} else if in.Code&0x07 != unix.BPF_JMP {
			continue
		}
		for _, off := range offs {
			if i+1+off >= len(prog.Insns) {
				t.Fatalf("instruction %d jumps past the end", i)
			}
		}
	}
	for _, c := range []struct {
		a0   uint64
		want string
	}{{0, "ERRNO(ENOTBLK)"}, {3, "ERRNO(ENOTBLK)"}, {1197, "ERRNO(ENOTBLK)"}, {1198, "ALLOW"}, {4, "ALLOW"}} {
		if got := check(t, p, "", "6.1", "getppid", c.a0); got != c.want {
			t.Errorf("getppid(%d) = %s, want %s", c.a0, got, c.want)
		}
	}
	if got := check(t, p, "", "6.1", "getpgrp", 7); got != "KILL_PROCESS" {
		t.Errorf("getpgrp(7) after the long rule list: %s", got)
	}
	if got := check(t, p, "", "6.1", "getpgrp", 8); got != "ALLOW" {
		t.Errorf("getpgrp(8) after the long rule list: %s", got)
	}
	longJumps := 0
	for _, in := range prog.Insns {
		if in.Code == ja {
			longJumps++
		}
	}
	if longJumps == 0 {
		t.Error("no long jump in the program: the test does not exercise the relaxation")
	}

	for i := 400; i < 1200; i++ {
		rules = append(rules, Syscall{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e,
			Args: []Arg{{Index: 0, Value: uint64(i * 3), Op: OpEQ}}})
	}
	_, _, err = Build(&Profile{Source: "huge", DefaultAction: ActAllow, Syscalls: rules}, Options{Arch: archAMD64, Kernel: "6.1"})
	if err == nil || !strings.Contains(err.Error(), "BPF_MAXINSNS") {
		t.Fatalf("a 5000-instruction profile: error %v, want the kernel's limit explained", err)
	}
}

func TestUnknownNames(t *testing.T) {
	p, err := ParseProfile([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read", "chown32", "mkdri"], "action": "SCMP_ACT_ALLOW"}]}`), "typo.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(p, Options{Arch: archAMD64, Kernel: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.NotOnArch) != "[chown32]" || fmt.Sprint(r.Unknown) != "[mkdri]" || len(r.Rules) != 1 {
		t.Fatalf("not on arch %v, unknown %v, rules %d", r.NotOnArch, r.Unknown, len(r.Rules))
	}
	if _, err := DenyProfile([]string{"mkdri"}, ActErrno, 1, archAMD64); err == nil {
		t.Error("--deny with a typo must fail")
	}
	if _, err := DenyProfile([]string{"mkdir"}, ActErrno, 1, archARM64); err == nil || !strings.Contains(err.Error(), "other architectures") {
		t.Errorf("--deny mkdir on arm64: %v", err)
	}
}

func TestParseErrno(t *testing.T) {
	for s, want := range map[string]uint{"EPERM": 1, "eacces": 13, "38": 38, "ENOSYS": 38} {
		if got, err := ParseErrno(s); err != nil || got != want {
			t.Errorf("ParseErrno(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"EWHAT", "4096", "70000", "-1"} {
		if e, err := ParseErrno(s); err == nil {
			t.Errorf("ParseErrno(%q) = %d, want an error", s, e)
		}
	}
	if e, err := ParseErrno("4095"); err != nil || e != 4095 {
		t.Errorf("ParseErrno(\"4095\") = %d, %v", e, err)
	}
}

// dump's output is stable: the golden files change only when the
// compiler or the profile does (go test -update rewrites them).
func TestDumpGolden(t *testing.T) {
	deny, err := DenyProfile([]string{"mkdir", "unshare"}, ActErrno, 1, archAMD64)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := ParseCaps(dockerCaps)
	for _, c := range []struct {
		file string
		p    *Profile
		arch *Arch
	}{
		{"deny_mkdir_unshare_amd64.golden", deny, archAMD64},
		{"default_amd64.golden", DefaultProfile(), archAMD64},
		{"default_arm64.golden", DefaultProfile(), archARM64},
	} {
		r, prog, err := Build(c.p, Options{Arch: c.arch, Caps: cs, Kernel: "6.1"})
		if err != nil {
			t.Fatal(err)
		}
		got := Dump(c.p, r, prog)
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s: dump changed (go test ./seccompctl/seccomp -update if intended)\n%s", c.file, firstDiff(string(want), got))
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}

// Compiling Docker's default profile is part of every container start.
func BenchmarkBuildDefault(b *testing.B) {
	p := DefaultProfile()
	for b.Loop() {
		if _, _, err := Build(p, Options{Arch: archAMD64, Kernel: "6.1"}); err != nil {
			b.Fatal(err)
		}
	}
}

// The path a system call takes through the default program: about
// log2(300) compares, not 300.
func BenchmarkRunDefault(b *testing.B) {
	_, prog, err := Build(DefaultProfile(), Options{Arch: archAMD64, Kernel: "6.1"})
	if err != nil {
		b.Fatal(err)
	}
	d := &Data{Nr: 257, Arch: unix.AUDIT_ARCH_X86_64} // openat
	for b.Loop() {
		Run(prog.Insns, d)
	}
}

// Profiles written for older and newer Docker versions read unchanged:
// empty args/includes/excludes, null sub-architectures, the old
// "architectures" list and single "name" form, fields we do not use.
func TestDockerFormatVariants(t *testing.T) {
	p, err := ParseProfile([]byte(`{
	"defaultAction": "SCMP_ACT_ERRNO",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
	"archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": null}],
	"listenerPath": "",
	"syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
		{"name": "write", "action": "SCMP_ACT_ALLOW", "args": null},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}, "excludes": {"caps": []}}
	]}`), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	for call, want := range map[string]string{"read": "ALLOW", "write": "ALLOW", "ptrace": "ALLOW", "mkdir": "ERRNO(EPERM)"} {
		if got := check(t, p, "", "6.1", call); got != want {
			t.Errorf("%s: %s, want %s", call, got, want)
		}
	}
}

// zdefault.go is profiles/default.json: `go generate` wrote it, nobody
// edits it, and it changes when the JSON does.
func TestDefaultProfileGenerated(t *testing.T) {
	data, err := os.ReadFile("profiles/default.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseProfile(data, "default")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(DefaultProfile(), want) {
		t.Fatal("zdefault.go is stale: run go generate ./seccompctl/seccomp/")
	}
}
