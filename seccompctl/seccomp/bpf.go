package seccomp

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Classic BPF, the little machine a seccomp filter runs on: an
// accumulator A, loads from the seccomp_data the kernel fills in for each
// system call, compares with constants, and a return value. Conditional
// jumps only go forward, by at most 255 instructions (jt and jf are 8
// bits); the unconditional jump ("ja") takes a 32-bit offset.

// Offsets in struct seccomp_data (<linux/seccomp.h>): the numbers the
// filter loads. Both amd64 and arm64 are little-endian, so the low half
// of 64-bit argument i is at 16+8i and the high half at 20+8i.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

func argLo(i uint) uint32 { return offArgs + 8*uint32(i) }
func argHi(i uint) uint32 { return offArgs + 8*uint32(i) + 4 }

// The instruction codes the compiler uses.
const (
	ldAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	andK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	ja     = unix.BPF_JMP | unix.BPF_JA
	jeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	retK   = unix.BPF_RET | unix.BPF_K
)

// maxInsns is the kernel's limit on a filter's length (BPF_MAXINSNS).
const maxInsns = 4096

// label names a place in a program being assembled.
type label int32

// next, as a jump target, means the instruction that follows.
const next label = -1

// insn is an instruction with symbolic jump targets.
type insn struct {
	code    uint16
	k       uint32
	jt, jf  label // conditional jumps
	target  label // ja
	comment string
}

// assembler builds a program with symbolic labels, then lays it out,
// turning any conditional jump that reaches further than 255
// instructions into a jump to a nearby "ja" (or a copy of the "ret" it
// was going to).
type assembler struct {
	prog    []insn
	at      []int   // at[l] is the instruction label l is bound to (-1: none yet)
	pending []label // bound to the next instruction emitted
}

// newAssembler returns an assembler with room for about n instructions.
func newAssembler(n int) *assembler {
	return &assembler{prog: make([]insn, 0, n), at: make([]int, 0, 2*n)}
}

func (a *assembler) newLabel() label {
	a.at = append(a.at, -1)
	return label(len(a.at) - 1)
}

// bind places l at the next instruction emitted.
func (a *assembler) bind(l label) { a.pending = append(a.pending, l) }

func (a *assembler) emit(in insn) {
	for _, l := range a.pending {
		a.at[l] = len(a.prog)
	}
	a.pending = a.pending[:0]
	for _, t := range []*label{&in.jt, &in.jf} {
		if *t == next {
			*t = a.newLabel()
			a.pending = append(a.pending, *t)
		}
	}
	a.prog = append(a.prog, in)
}

func (a *assembler) load(off uint32, comment string) {
	a.emit(insn{code: ldAbsW, k: off, comment: comment})
}
func (a *assembler) and(k uint32) { a.emit(insn{code: andK, k: k}) }
func (a *assembler) jump(code uint16, k uint32, jt, jf label, comment string) {
	a.emit(insn{code: code, k: k, jt: jt, jf: jf, comment: comment})
}
func (a *assembler) ret(k uint32, comment string) {
	a.emit(insn{code: retK, k: k, comment: comment})
}

// Program is an assembled filter and the comments that explain it.
type Program struct {
	Insns    []unix.SockFilter
	Comments []string
}

// link lays out the program and resolves labels into jump offsets.
// Each pass gives every conditional jump that reaches further than 255
// instructions a trampoline right after itself; trampolines push other
// targets further away, so passes repeat until none is needed.
func (a *assembler) link() (*Program, error) {
	if len(a.pending) > 0 {
		return nil, fmt.Errorf("internal error: label bound past the end of the program")
	}
	for {
		added, err := a.addTrampolines()
		if err != nil {
			return nil, err
		}
		if !added {
			break
		}
	}
	if len(a.prog) > maxInsns {
		return nil, fmt.Errorf("the filter needs %d BPF instructions, more than the kernel's limit of %d (BPF_MAXINSNS): split the profile or use fewer argument rules", len(a.prog), maxInsns)
	}
	out := &Program{Insns: make([]unix.SockFilter, len(a.prog)), Comments: make([]string, len(a.prog))}
	for i, in := range a.prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		switch {
		case in.code == ja:
			f.K = uint32(a.at[in.target] - (i + 1))
		case in.code&0x07 == unix.BPF_JMP:
			f.Jt = uint8(a.at[in.jt] - (i + 1))
			f.Jf = uint8(a.at[in.jf] - (i + 1))
		}
		out.Insns[i] = f
		out.Comments[i] = in.comment
	}
	return out, nil
}

// addTrampolines is one pass of link: it puts a trampoline right after
// each conditional jump whose target is more than 255 instructions
// away, and says whether it added any.
func (a *assembler) addTrampolines() (bool, error) {
	far, err := a.farJumps()
	if err != nil || far == 0 {
		return false, err
	}
	labels := len(a.at) // the labels bound before this pass, to a.prog's indexes
	moved := make([]int, len(a.prog))
	out := make([]insn, 0, len(a.prog)+far)
	for i, in := range a.prog {
		moved[i] = len(out)
		out = append(out, in)
		if in.code&0x07 != unix.BPF_JMP || in.code == ja {
			continue
		}
		self := len(out) - 1
		for _, t := range []*label{&in.jt, &in.jf} {
			p := a.at[*t]
			if p < 0 {
				return false, fmt.Errorf("internal error: unbound label %d", *t)
			}
			if p-(i+1) <= 255 {
				continue
			}
			far := a.prog[p]
			tramp := insn{code: ja, target: *t, comment: "long jump"}
			if far.code == retK {
				// Returning is cheaper than jumping to a return.
				tramp = insn{code: retK, k: far.k, comment: far.comment}
			}
			*t = a.newLabel()
			a.at[*t] = len(out)
			out = append(out, tramp)
		}
		out[self] = in
	}
	for l := range labels {
		if a.at[l] >= 0 {
			a.at[l] = moved[a.at[l]]
		}
	}
	a.prog = out
	return true, nil
}

// farJumps counts the conditional jumps that reach further than 255
// instructions (a jump whose two targets are both far counts twice).
func (a *assembler) farJumps() (int, error) {
	n := 0
	for i, in := range a.prog {
		if in.code&0x07 != unix.BPF_JMP || in.code == ja {
			continue
		}
		for _, t := range [2]label{in.jt, in.jf} {
			p := a.at[t]
			if p < 0 {
				return 0, fmt.Errorf("internal error: unbound label %d", t)
			}
			if p-(i+1) > 255 {
				n++
			}
		}
	}
	return n, nil
}

// Data is the struct seccomp_data the kernel hands a filter.
type Data struct {
	Nr   uint32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

func (d *Data) word(off uint32) (uint32, error) {
	switch {
	case off == offNr:
		return d.Nr, nil
	case off == offArch:
		return d.Arch, nil
	case off == 8:
		return uint32(d.IP), nil
	case off == 12:
		return uint32(d.IP >> 32), nil
	case off >= offArgs && off < offArgs+6*8 && off%4 == 0:
		a := d.Args[(off-offArgs)/8]
		if (off-offArgs)%8 == 4 {
			return uint32(a >> 32), nil
		}
		return uint32(a), nil
	}
	return 0, fmt.Errorf("load from offset %d outside seccomp_data", off)
}

// Run executes a filter on d, as the kernel would, and returns what the
// filter returns (a SECCOMP_RET_* value). `seccompctl check` uses it, so
// that what check says and what the kernel does come from the very same
// instructions.
func Run(prog []unix.SockFilter, d *Data) (uint32, error) {
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case ldAbsW:
			v, err := d.word(in.K)
			if err != nil {
				return 0, fmt.Errorf("instruction %d: %v", pc, err)
			}
			acc = v
		case andK:
			acc &= in.K
		case ja:
			pc += int(in.K)
		case jeqK, jgtK, jgeK, jsetK:
			var t bool
			switch in.Code {
			case jeqK:
				t = acc == in.K
			case jgtK:
				t = acc > in.K
			case jgeK:
				t = acc >= in.K
			case jsetK:
				t = acc&in.K != 0
			}
			if t {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case retK:
			return in.K, nil
		default:
			return 0, fmt.Errorf("instruction %d: opcode %#x not supported by this interpreter", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("the program ran off its end without returning")
}

// RetString names a SECCOMP_RET_* value: ALLOW, ERRNO(EPERM), KILL_PROCESS.
func RetString(r uint32) string {
	data := r & unix.SECCOMP_RET_DATA
	switch r & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return "ALLOW"
	case unix.SECCOMP_RET_ERRNO:
		return "ERRNO(" + errnoName(data) + ")"
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "KILL_THREAD"
	case unix.SECCOMP_RET_TRAP:
		return "TRAP"
	case unix.SECCOMP_RET_LOG:
		return "LOG"
	case unix.SECCOMP_RET_TRACE:
		return fmt.Sprintf("TRACE(%d)", data)
	case unix.SECCOMP_RET_USER_NOTIF:
		return "USER_NOTIF"
	}
	return fmt.Sprintf("%#x", r)
}

func errnoName(e uint32) string {
	if n := unix.ErrnoName(unix.Errno(e)); n != "" {
		return n
	}
	return fmt.Sprint(e)
}

// maxErrno is the largest errno a filter can return (MAX_ERRNO): the
// kernel caps SECCOMP_RET_ERRNO's data there, so a larger one would be
// shown as one value by `seccompctl check` and returned as 4095.
const maxErrno = 4095

// checkErrno refuses an errno the kernel would not return as given.
func checkErrno(e uint) error {
	if e > maxErrno {
		return fmt.Errorf("errno %d is too large: the kernel returns at most %d (MAX_ERRNO)", e, maxErrno)
	}
	return nil
}

// ParseErrno reads an errno given as a name (EPERM) or a number (1).
func ParseErrno(s string) (uint, error) {
	var n uint
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		return n, checkErrno(n)
	}
	want := strings.ToUpper(s)
	for e := 1; e <= maxErrno; e++ {
		if unix.ErrnoName(unix.Errno(e)) == want {
			return uint(e), nil
		}
	}
	return 0, fmt.Errorf("unknown errno %q (give a name such as EPERM, or a number)", s)
}

// Disassemble prints a program as BPF assembly, one instruction a line,
// with jump targets as absolute line numbers and the compiler's comments.
func (p *Program) Disassemble() string {
	var b strings.Builder
	for i, in := range p.Insns {
		var text string
		switch in.Code {
		case ldAbsW:
			text = fmt.Sprintf("ld   [%d]", in.K)
		case andK:
			text = fmt.Sprintf("and  #%#x", in.K)
		case ja:
			text = fmt.Sprintf("ja   %d", i+1+int(in.K))
		case jeqK, jgtK, jgeK, jsetK:
			op := map[uint16]string{jeqK: "jeq ", jgtK: "jgt ", jgeK: "jge ", jsetK: "jset"}[in.Code]
			text = fmt.Sprintf("%s #%#x, %d, %d", op, in.K, i+1+int(in.Jt), i+1+int(in.Jf))
		case retK:
			text = fmt.Sprintf("ret  #%#x", in.K)
		default:
			text = fmt.Sprintf("op %#x k %#x jt %d jf %d", in.Code, in.K, in.Jt, in.Jf)
		}
		c := ""
		if i < len(p.Comments) && p.Comments[i] != "" {
			c = "; " + p.Comments[i]
		}
		line := fmt.Sprintf("%4d: %-34s %s", i, text, c)
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
