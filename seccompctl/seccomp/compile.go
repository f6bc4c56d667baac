package seccomp

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// Compile turns a resolved profile into a classic BPF program, in the
// order the kernel's data asks for:
//
//  1. the architecture: a system call number means nothing until you know
//     which table it indexes (on x86_64, 2 is open for 64-bit code, but
//     fork for a 32-bit "int 0x80" call). Only the native architecture
//     passes; anything else kills the process. On x86_64 the x32 ABI
//     shares AUDIT_ARCH_X86_64 and sets bit 30 of the number instead, so
//     numbers with that bit kill too. seccompctl deliberately lets no
//     compat ABI through, even when a profile lists it (Docker's lists
//     x86 and x32): those entry points are where filters get bypassed
//     (socketcall(2) hides the socket family behind a pointer).
//  2. the system call number: a linear chain of compares for short
//     profiles (readable), a binary search for long ones (fast).
//  3. each rule of that system call, in profile order: its argument
//     conditions, 64-bit values compared as two 32-bit halves since BPF
//     only handles 32-bit words; the first rule whose conditions all hold
//     decides. When none does, the default action.
func Compile(r *Resolved) (*Program, error) {
	groups := groupRules(r.Rules)
	a := newAssembler(sizeHint(groups))
	a.load(offArch, "A = seccomp_data.arch")
	archOK := a.newLabel()
	a.jump(jeqK, r.Arch.Audit, archOK, next, r.Arch.AuditName)
	a.ret(unix.SECCOMP_RET_KILL_PROCESS, "another architecture: kill")
	a.bind(archOK)
	a.load(offNr, "A = seccomp_data.nr")
	if r.Arch.X32 {
		// -1 is no call at all (a tracer cancelling one, or a program
		// probing): let it reach the default action, as libseccomp does.
		nrOK := a.newLabel()
		a.jump(jgeK, x32SyscallBit, next, nrOK, "x32 ABI (__X32_SYSCALL_BIT)?")
		a.jump(jeqK, 0xffffffff, nrOK, next, "nr -1 is not an x32 call")
		a.ret(unix.SECCOMP_RET_KILL_PROCESS, "x32 call: kill")
		a.bind(nrOK)
	}

	deflt := "default: " + RetString(r.DefaultRet)
	if len(groups) <= linearMax {
		dispatchLinear(a, groups)
		a.ret(r.DefaultRet, deflt)
	} else {
		dispatchTree(a, groups, r.DefaultRet, deflt)
	}
	for _, g := range groups {
		a.bind(g.body)
		compileRules(a, g, r.DefaultRet, deflt)
	}
	return a.link()
}

// linearMax is the longest list of system calls compiled as a chain of
// compares; longer ones become a binary search.
const linearMax = 12

// group is all the rules of one system call number.
type group struct {
	nr    uint32
	name  string
	rules []Rule
	body  label
}

// groupRules sorts the rules by number, keeping profile order within
// each system call, and cuts them into groups.
func groupRules(rules []Rule) []*group {
	sorted := slices.Clone(rules)
	slices.SortStableFunc(sorted, func(a, b Rule) int { return cmp.Compare(a.Nr, b.Nr) })
	all := make([]group, 0, len(sorted))
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].Nr == sorted[i].Nr {
			j++
		}
		all = append(all, group{nr: sorted[i].Nr, name: sorted[i].Name, rules: sorted[i:j:j]})
		i = j
	}
	gs := make([]*group, len(all))
	for i := range all {
		gs[i] = &all[i]
	}
	return gs
}

// sizeHint is about how many instructions (and labels) the program of
// gs takes: the dispatch, a return per rule and a few per condition.
func sizeHint(gs []*group) int {
	n := 8 + 3*len(gs)
	for _, g := range gs {
		for _, r := range g.rules {
			n += 1 + 6*len(r.Args)
		}
	}
	return n
}

func dispatchLinear(a *assembler, gs []*group) {
	for _, g := range gs {
		g.body = a.newLabel()
		a.jump(jeqK, g.nr, g.body, next, g.name)
	}
}

// dispatchTree emits a binary search over the sorted numbers: about
// log2(n) compares instead of n for a profile of n system calls.
func dispatchTree(a *assembler, gs []*group, deflt uint32, comment string) {
	if len(gs) <= 4 {
		dispatchLinear(a, gs)
		a.ret(deflt, comment)
		return
	}
	mid := len(gs) / 2
	right := a.newLabel()
	a.jump(jgeK, gs[mid].nr, right, next, "nr >= "+strconv.FormatUint(uint64(gs[mid].nr), 10)+" ("+gs[mid].name+")?")
	dispatchTree(a, gs[:mid], deflt, comment)
	a.bind(right)
	dispatchTree(a, gs[mid:], deflt, comment)
}

// compileRules emits the rules of one system call: each rule's
// conditions jump to the next rule on failure and fall through to the
// rule's return on success.
func compileRules(a *assembler, g *group, deflt uint32, comment string) {
	for _, r := range g.rules {
		if len(r.Args) == 0 {
			a.ret(r.Ret, g.name+": "+RetString(r.Ret))
			return // later rules for this call can never be reached
		}
		fail := a.newLabel()
		for _, c := range r.Args {
			compileArg(a, c, fail)
		}
		a.ret(r.Ret, fmt.Sprintf("%s(%s): %s", g.name, argsString(r.Args), RetString(r.Ret)))
		a.bind(fail)
	}
	a.ret(deflt, g.name+": no rule matched, "+comment)
}

// compileArg emits one argument condition: fall through when it holds,
// jump to fail when not. BPF words are 32 bits, so a 64-bit argument is
// compared high half first, then low half.
func compileArg(a *assembler, c Arg, fail label) {
	hi, lo := uint32(c.Value>>32), uint32(c.Value)
	hiC := "A = args[" + strconv.FormatUint(uint64(c.Index), 10) + "] >> 32"
	loC := "A = args[" + strconv.FormatUint(uint64(c.Index), 10) + "] & 0xffffffff"
	what := argString(c)
	switch c.Op {
	case OpEQ:
		a.load(argHi(c.Index), hiC)
		a.jump(jeqK, hi, next, fail, "")
		a.load(argLo(c.Index), loC)
		a.jump(jeqK, lo, next, fail, what)
	case OpNE:
		pass := a.newLabel()
		a.load(argHi(c.Index), hiC)
		a.jump(jeqK, hi, next, pass, "")
		a.load(argLo(c.Index), loC)
		a.jump(jeqK, lo, fail, next, what)
		a.bind(pass)
	case OpMaskedEQ:
		mhi, mlo := uint32(c.Value>>32), uint32(c.Value)
		whi, wlo := uint32(c.ValueTwo>>32), uint32(c.ValueTwo)
		if mhi != 0 || whi != 0 {
			a.load(argHi(c.Index), hiC)
			a.and(mhi)
			a.jump(jeqK, whi, next, fail, "")
		}
		a.load(argLo(c.Index), loC)
		a.and(mlo)
		a.jump(jeqK, wlo, next, fail, what)
	case OpGT, OpGE, OpLT, OpLE:
		// A 64-bit comparison on 32-bit words: the high words decide
		// unless they are equal, then the low words do. LT and LE are GT
		// and GE with the two outcomes swapped (a < b is a >= b false).
		less := c.Op == OpLT || c.Op == OpLE
		pass := a.newLabel()
		above, below := pass, fail
		if less {
			above, below = fail, pass
		}
		a.load(argHi(c.Index), hiC)
		a.jump(jgtK, hi, above, next, "")
		a.jump(jeqK, hi, next, below, "")
		a.load(argLo(c.Index), loC)
		code := uint16(jgtK) // A > lo: GT holds, LE fails
		if c.Op == OpGE || c.Op == OpLT {
			code = jgeK // A >= lo: GE holds, LT fails
		}
		yes, no := next, fail
		if less {
			yes, no = fail, next
		}
		a.jump(code, lo, yes, no, what)
		a.bind(pass)
	}
}

var opSymbols = map[Operator]string{OpEQ: "==", OpNE: "!=", OpLT: "<", OpLE: "<=", OpGT: ">", OpGE: ">="}

func argString(c Arg) string {
	if c.Op == OpMaskedEQ {
		return fmt.Sprintf("args[%d] & %#x == %#x", c.Index, c.Value, c.ValueTwo)
	}
	return fmt.Sprintf("args[%d] %s %#x", c.Index, opSymbols[c.Op], c.Value)
}

func argsString(args []Arg) string {
	s := ""
	for i, c := range args {
		if i > 0 {
			s += " && "
		}
		s += argString(c)
	}
	return s
}
