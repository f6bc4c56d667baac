package seccomp

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzProfile feeds arbitrary JSON to ParseProfile and compiles every
// profile it accepts, for both architectures. Nothing may panic, and
// each compiled program must be one the kernel accepts (the checks of
// bpf_check_classic and seccomp_check_filter) and must decide each
// system call as the profile says: the interpreter's answer is compared
// with a direct reading of the resolved rules (firstMatch), for every
// rule's call with argument values on and around its conditions' edges.
func FuzzProfile(f *testing.F) {
	def, err := os.ReadFile("profiles/default.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	for _, seed := range []string{
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{"name":"personality","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}],"excludes":{"caps":["CAP_SYS_ADMIN"],"arches":["s390x"]}}]}`,
		`{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["read"],"action":"SCMP_ACT_TRACE","errnoRet":7,"args":[{"index":5,"value":18446744073709551615,"op":"SCMP_CMP_GE"},{"index":1,"value":4294967296,"op":"SCMP_CMP_LT"}],"includes":{"minKernel":"4.8"}}]}`,
		`{"defaultAction":"SCMP_ACT_TRAP","defaultErrnoRet":1,"syscalls":[{"names":["write"],"action":"SCMP_ACT_KILL","args":[{"index":2,"value":100,"op":"SCMP_CMP_GT"},{"index":2,"value":200,"op":"SCMP_CMP_LE"},{"index":3,"value":9,"op":"SCMP_CMP_NE"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["no_such_call","chown32"],"action":"SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction":"SCMP_ACT_NOTIFY","syscalls":[]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000,"syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":4096}]}`,
		`[`, `{}`, `{"syscalls":null,"defaultAction":"SCMP_ACT_ALLOW"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data, "fuzz.json")
		if err != nil {
			return
		}
		for _, name := range []string{"amd64", "arm64"} {
			arch, err := LookupArch(name)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Resolve(p, Options{Arch: arch, Kernel: "6.1"})
			if err != nil {
				return
			}
			prog, err := Compile(r)
			if err != nil {
				return // too long for the kernel: refused with a message
			}
			if err := kernelReturnsAsWritten(prog.Insns); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := kernelAccepts(prog.Insns); err != nil {
				t.Fatalf("%s: the kernel would refuse the program: %v\n%s", name, err, prog.Disassemble())
			}
			for _, d := range probes(r) {
				got, err := Run(prog.Insns, &d)
				if err != nil {
					t.Fatalf("%s: Run(%+v): %v", name, d, err)
				}
				if want := firstMatch(r, &d); got != want {
					t.Fatalf("%s: %+v: the program returns %s, the rules say %s\n%s",
						name, d, RetString(got), RetString(want), prog.Disassemble())
				}
			}
		}
	})
}

// kernelAccepts applies the checks the kernel makes before it installs
// a classic BPF seccomp filter (net/core/filter.c bpf_check_classic,
// kernel/seccomp.c seccomp_check_filter).
func kernelAccepts(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > maxInsns {
		return fmt.Errorf("%d instructions (want 1 to %d)", len(prog), maxInsns)
	}
	for pc, in := range prog {
		switch in.Code {
		case ldAbsW:
			if in.K >= 64 || in.K%4 != 0 {
				return fmt.Errorf("instruction %d: load from offset %d, outside seccomp_data or unaligned", pc, in.K)
			}
		case andK, retK:
		case ja:
			if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
				return fmt.Errorf("instruction %d: ja %d jumps past the end", pc, in.K)
			}
		case jeqK, jgtK, jgeK, jsetK:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("instruction %d: a conditional jump past the end", pc)
			}
		default:
			return fmt.Errorf("instruction %d: opcode %#x", pc, in.Code)
		}
	}
	if last := prog[len(prog)-1]; last.Code != retK {
		return fmt.Errorf("the last instruction is %#x, not a return", last.Code)
	}
	return nil
}

// kernelReturnsAsWritten checks that each return value means to the
// kernel what the interpreter (and so `seccompctl check`) says: the
// kernel caps an ERRNO's data at MAX_ERRNO (4095), so a larger errno
// would be reported as one value and returned as another.
func kernelReturnsAsWritten(prog []unix.SockFilter) error {
	for pc, in := range prog {
		if in.Code == retK && in.K&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO && in.K&unix.SECCOMP_RET_DATA > 4095 {
			return fmt.Errorf("instruction %d returns %s, but the kernel caps an errno at 4095", pc, RetString(in.K))
		}
	}
	return nil
}

// firstMatch reads the resolved rules directly: the architecture must
// be the native one (and on x86_64 no x32 number), then the first rule
// for the number whose conditions all hold decides, else the default.
func firstMatch(r *Resolved, d *Data) uint32 {
	if d.Arch != r.Arch.Audit {
		return unix.SECCOMP_RET_KILL_PROCESS
	}
	if r.Arch.X32 && d.Nr >= x32SyscallBit && d.Nr != 0xffffffff {
		return unix.SECCOMP_RET_KILL_PROCESS
	}
	for _, rule := range r.Rules {
		if rule.Nr != d.Nr {
			continue
		}
		all := true
		for _, c := range rule.Args {
			all = all && holds(c, d.Args[c.Index])
		}
		if all {
			return rule.Ret
		}
	}
	return r.DefaultRet
}

func holds(c Arg, v uint64) bool {
	switch c.Op {
	case OpEQ:
		return v == c.Value
	case OpNE:
		return v != c.Value
	case OpLT:
		return v < c.Value
	case OpLE:
		return v <= c.Value
	case OpGT:
		return v > c.Value
	case OpGE:
		return v >= c.Value
	case OpMaskedEQ:
		return v&c.Value == c.ValueTwo
	}
	return false
}

// probes returns system calls to try: each rule's number with argument
// values on, just below and just above each condition's value (and the
// same with the halves swapped, for the 64-bit compares), a number no
// rule names, -1, an x32 number and another architecture.
func probes(r *Resolved) []Data {
	base := []Data{
		{Nr: 0xffffffff, Arch: r.Arch.Audit},
		{Nr: 39 | x32SyscallBit, Arch: r.Arch.Audit},
		{Nr: 0, Arch: unix.AUDIT_ARCH_I386},
		{Nr: 100000, Arch: r.Arch.Audit},
	}
	out := base
	for i, rule := range r.Rules {
		if i >= 64 {
			break // enough to cover the shapes; keep each input fast
		}
		d := Data{Nr: rule.Nr, Arch: r.Arch.Audit}
		out = append(out, d)
		for _, c := range rule.Args {
			for _, v := range []uint64{c.Value, c.Value - 1, c.Value + 1, c.ValueTwo, c.Value & c.ValueTwo,
				c.Value<<32 | c.Value>>32, c.Value ^ 1<<32, 0, ^uint64(0)} {
				e := d
				e.Args[c.Index] = v
				out = append(out, e)
				// Satisfy the earlier conditions too, so later ones are reached.
				for _, o := range rule.Args {
					if o.Index != c.Index && (o.Op == OpEQ || o.Op == OpMaskedEQ) {
						e.Args[o.Index] = o.Value
						if o.Op == OpMaskedEQ {
							e.Args[o.Index] = o.ValueTwo
						}
					}
				}
				out = append(out, e)
			}
		}
	}
	return out
}
