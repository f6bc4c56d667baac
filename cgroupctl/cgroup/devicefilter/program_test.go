package devicefilter

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// run interprets prog, as the kernel would run it, for a request: the
// instruction subset Compile writes, with the kernel's rules for what
// a program may do (no backward jump, no jump out, no falling off the
// end, r0 set before exit). It is the reference Compile is held to
// without the kernel; the kernel test holds both to the kernel.
func run(prog []Insn, typ, major, minor uint32, access Access) (uint64, error) {
	var reg [11]uint64
	set := [11]bool{1: true}
	ctx := [3]uint32{uint32(access)<<16 | typ, major, minor}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		if in.Dst > 10 || in.Src > 10 {
			return 0, fmt.Errorf("pc %d: bad register", pc)
		}
		if (in.Op == opMov32X || in.Op == opJne32X) && !set[in.Src] || in.Op != opLoadWord && in.Op != opMov64K && in.Op != opMov32X && in.Op != opExit && !set[in.Dst] {
			return 0, fmt.Errorf("pc %d: %s reads a register never set", pc, in)
		}
		w := uint32(reg[in.Dst])
		jump := false
		switch in.Op {
		case opLoadWord:
			if in.Src != 1 || in.Off < 0 || in.Off > 8 || in.Off%4 != 0 {
				return 0, fmt.Errorf("pc %d: %s: not a field of the context", pc, in)
			}
			reg[in.Dst] = uint64(ctx[in.Off/4])
		case opAnd32K:
			reg[in.Dst] = uint64(w & uint32(in.Imm))
		case opRsh32K:
			reg[in.Dst] = uint64(w >> uint32(in.Imm))
		case opMov32X:
			reg[in.Dst] = uint64(uint32(reg[in.Src]))
		case opMov64K:
			reg[in.Dst] = uint64(int64(in.Imm))
		case opJne32K:
			jump = w != uint32(in.Imm)
		case opJne32X:
			jump = w != uint32(reg[in.Src])
		case opJeq32K:
			jump = w == uint32(in.Imm)
		case opExit:
			if !set[0] {
				return 0, fmt.Errorf("pc %d: exit without r0", pc)
			}
			return reg[0], nil
		default:
			return 0, fmt.Errorf("pc %d: opcode %#x not in the subset", pc, in.Op)
		}
		if in.Op != opJne32K && in.Op != opJne32X && in.Op != opJeq32K {
			set[in.Dst] = true
		} else if in.Off < 0 || pc+1+int(in.Off) >= len(prog) {
			return 0, fmt.Errorf("pc %d: %s jumps out of the program", pc, in)
		} else if jump {
			pc += int(in.Off)
		}
	}
	return 0, fmt.Errorf("fell off the end")
}

// requests are the devices a rule set is checked on: every number its
// rules name, one more, and 0, for both types and every access.
func requests(f Filter) (out [][4]uint32) {
	nums := map[uint32]bool{0: true, 4242: true}
	for _, e := range f.Exceptions {
		for _, n := range []int64{e.Major, e.Minor} {
			if n != Any {
				nums[uint32(n)], nums[uint32(n)+1] = true, true
			}
		}
	}
	for _, typ := range []uint32{Block, Char} {
		for maj := range nums {
			for min := range nums {
				for acc := uint32(1); acc < 8; acc++ {
					out = append(out, [4]uint32{typ, maj, min, acc})
				}
			}
		}
	}
	return out
}

// checkProgram holds Compile's program to Allows on every request.
func checkProgram(t *testing.T, rules []Rule) Filter {
	t.Helper()
	f, err := Emulate(rules)
	if err != nil {
		t.Fatal(err)
	}
	prog := Compile(f)
	for _, r := range requests(f) {
		got, err := run(prog, r[0], r[1], r[2], Access(r[3]))
		if err != nil {
			t.Fatalf("rules %v: %v\n%s", rules, err, listing(prog))
		}
		if want := f.Allows(r[0], r[1], r[2], Access(r[3])); (got == 1) != want || got > 1 {
			t.Fatalf("rules %v, request %v: program says %d, the v1 emulation %v\n%s", rules, r, got, want, listing(prog))
		}
	}
	return f
}

func listing(prog []Insn) string {
	var b strings.Builder
	for i, in := range prog {
		fmt.Fprintf(&b, "%3d: %s\n", i, in)
	}
	return b.String()
}

// TestEmulate: the v1 controller's state after the writes, as
// devices.list would show it.
func TestEmulate(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules []Rule
		allow bool
		want  string
	}{
		{"root", nil, true, ""},
		{"docker", RulesOf("docker", ""), false, strings.Join(DockerRules, "|")},
		{"privileged", RulesOf("all", ""), true, ""},
		{"docker then a rule", RulesOf("docker", "c 10:229 rw,c 10:229 m"), false, strings.Join(DockerRules, "|") + "|c 10:229 rwm"},
		{"allow takes back a deny", []Rule{{false, "c 1:3 rw"}, {true, "c 1:3 w"}}, true, "c 1:3 r"},
		{"deny takes back an allow", []Rule{{false, "a"}, {true, "b *:* rwm"}, {false, "b *:* rwm"}}, false, ""},
		{"a resets", []Rule{{false, "c 1:3 rw"}, {true, "a"}}, true, ""},
	} {
		f := checkProgram(t, c.rules)
		var got []string
		for _, e := range f.Exceptions {
			got = append(got, e.String())
		}
		if f.DefaultAllow != c.allow || strings.Join(got, "|") != c.want {
			t.Errorf("%s: default allow %v, exceptions %q; want %v, %q", c.name, f.DefaultAllow, got, c.allow, c.want)
		}
	}
}

// String writes the exception as devices.list does.
func (e Exception) String() string {
	num := func(n int64) string {
		if n == Any {
			return "*"
		}
		return fmt.Sprint(n)
	}
	acc := ""
	for _, a := range []struct {
		bit Access
		c   string
	}{{Read, "r"}, {Write, "w"}, {Mknod, "m"}} {
		if e.Access&a.bit != 0 {
			acc += a.c
		}
	}
	return fmt.Sprintf("%c %s:%s %s", e.Type, num(e.Major), num(e.Minor), acc)
}

// parseRules reads "+c 1:3 rwm;-a" (+ allow, - deny) for the fuzzer.
func parseRules(s string) ([]Rule, bool) {
	var rules []Rule
	for _, r := range strings.Split(s, ";") {
		if len(r) < 2 || (r[0] != '+' && r[0] != '-') {
			return nil, false
		}
		if _, _, err := Parse(r[1:]); err != nil {
			return nil, false
		}
		rules = append(rules, Rule{Allow: r[0] == '+', Rule: r[1:]})
	}
	return rules, true
}

// FuzzCompile: any rule set that parses compiles to a program that the
// interpreter runs to the same answer as the v1 emulation for every
// request near the rules' numbers (and for the fuzzer's own request),
// and that the kernel's verifier loads, when the test runs as root.
func FuzzCompile(f *testing.F) {
	f.Add("-a;+c *:* m;+b *:* m;+c 1:3 rwm;+c 136:* rwm", uint32(2), uint32(1), uint32(3), uint32(2))
	f.Add("+a;-c 1:5 w;-b 7:* r", uint32(1), uint32(7), uint32(0), uint32(6))
	f.Add("-c 4294967295:* rw;+c 4294967295:* w", uint32(2), uint32(4294967295), uint32(9), uint32(4))
	f.Add("-a;+a 1:2 r", uint32(1), uint32(1), uint32(2), uint32(1))
	f.Fuzz(func(t *testing.T, s string, typ, major, minor, access uint32) {
		rules, ok := parseRules(s)
		if !ok {
			return
		}
		fl := checkProgram(t, rules)
		prog := Compile(fl)
		got, err := run(prog, typ, major, minor, Access(access&7))
		if err != nil {
			t.Fatal(err)
		}
		if want := fl.Allows(typ, major, minor, Access(access&7)); (got == 1) != want {
			t.Fatalf("rules %v, request %d %d:%d %d: program %d, emulation %v", rules, typ, major, minor, access&7, got, want)
		}
		if os.Geteuid() == 0 {
			fd, err := Load(prog)
			if err != nil {
				t.Fatalf("rules %v: %v\n%s", rules, err, listing(prog))
			}
			unix.Close(fd)
		}
	})
}
