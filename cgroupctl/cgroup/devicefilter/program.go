package devicefilter

import (
	"encoding/binary"
	"fmt"
)

// Insn is one eBPF instruction (struct bpf_insn): an opcode, the
// destination and source registers, a jump offset (in instructions, from
// the next one) and an immediate.
type Insn struct {
	Op       uint8
	Dst, Src uint8
	Off      int16
	Imm      int32
}

// The opcodes Compile uses: the class in the low 3 bits, then the
// operation and whether the operand is the immediate (K) or the source
// register (X). "w" registers are the 32-bit halves (ALU and JMP32);
// r0 is the program's answer, r1 its context on entry.
const (
	opLoadWord = 0x61 // BPF_LDX|BPF_MEM|BPF_W:   dst = *(u32 *)(src + off)
	opAnd32K   = 0x54 // BPF_ALU|BPF_AND|BPF_K:   wdst &= imm
	opRsh32K   = 0x74 // BPF_ALU|BPF_RSH|BPF_K:   wdst >>= imm
	opMov32X   = 0xbc // BPF_ALU|BPF_MOV|BPF_X:   wdst = wsrc
	opMov64K   = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K: dst = imm
	opJne32K   = 0x56 // BPF_JMP32|BPF_JNE|BPF_K: if wdst != imm goto pc+off
	opJne32X   = 0x5e // BPF_JMP32|BPF_JNE|BPF_X: if wdst != wsrc goto pc+off
	opJeq32K   = 0x16 // BPF_JMP32|BPF_JEQ|BPF_K: if wdst == imm goto pc+off
	opExit     = 0x95 // BPF_JMP|BPF_EXIT:        return r0
)

// The context of a device program (struct bpf_cgroup_dev_ctx): three
// 32-bit fields.
const (
	ctxAccessType = 0 // (access << 16) | type
	ctxMajor      = 4
	ctxMinor      = 8
)

// The registers the program keeps the request in.
const (
	rTmp, rType, rAccess, rMajor, rMinor = 1, 2, 3, 4, 5
)

// Compile writes f as a device program: load the request (type, access,
// major, minor), then for each exception a block that jumps to the next
// block at the first field that does not match and otherwise returns
// the exception's answer (the opposite of the default), and last the
// default. The access test is the kernel's: with a denying default an
// exception must grant every bit asked for (asked & granted == asked);
// with an allowing default any bit it names denies (asked & named != 0).
func Compile(f Filter) []Insn {
	p := []Insn{
		{Op: opLoadWord, Dst: rType, Src: 1, Off: ctxAccessType},
		{Op: opAnd32K, Dst: rType, Imm: 0xffff},
		{Op: opLoadWord, Dst: rAccess, Src: 1, Off: ctxAccessType},
		{Op: opRsh32K, Dst: rAccess, Imm: 16},
		{Op: opLoadWord, Dst: rMajor, Src: 1, Off: ctxMajor},
		{Op: opLoadWord, Dst: rMinor, Src: 1, Off: ctxMinor},
	}
	answer := map[bool]int32{true: 1, false: 0}
	for _, e := range f.Exceptions {
		// Each jump is to the end of the block: its offset is filled in
		// once the block's length is known.
		var block []Insn
		block = append(block, Insn{Op: opJne32K, Dst: rType, Imm: map[byte]int32{'b': Block, 'c': Char}[e.Type]})
		if e.Major != Any {
			block = append(block, Insn{Op: opJne32K, Dst: rMajor, Imm: int32(uint32(e.Major))})
		}
		if e.Minor != Any {
			block = append(block, Insn{Op: opJne32K, Dst: rMinor, Imm: int32(uint32(e.Minor))})
		}
		switch {
		case !f.DefaultAllow && e.Access != Mknod|Read|Write:
			block = append(block, Insn{Op: opMov32X, Dst: rTmp, Src: rAccess},
				Insn{Op: opAnd32K, Dst: rTmp, Imm: int32(e.Access)},
				Insn{Op: opJne32X, Dst: rTmp, Src: rAccess})
		case f.DefaultAllow:
			block = append(block, Insn{Op: opMov32X, Dst: rTmp, Src: rAccess},
				Insn{Op: opAnd32K, Dst: rTmp, Imm: int32(e.Access)},
				Insn{Op: opJeq32K, Dst: rTmp, Imm: 0})
		}
		block = append(block, Insn{Op: opMov64K, Dst: 0, Imm: answer[!f.DefaultAllow]}, Insn{Op: opExit})
		for i := range block {
			if block[i].Op == opJne32K || block[i].Op == opJne32X || block[i].Op == opJeq32K {
				block[i].Off = int16(len(block) - i - 1)
			}
		}
		p = append(p, block...)
	}
	return append(p, Insn{Op: opMov64K, Dst: 0, Imm: answer[f.DefaultAllow]}, Insn{Op: opExit})
}

// Encode lays the program out as the kernel reads it: 8 bytes an
// instruction, the registers packed in one byte (dst in the low 4 bits
// on a little-endian machine), offset and immediate little-endian.
func Encode(p []Insn) []byte {
	b := make([]byte, 8*len(p))
	for i, in := range p {
		b[8*i] = in.Op
		b[8*i+1] = in.Dst&0xf | in.Src<<4
		binary.LittleEndian.PutUint16(b[8*i+2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(b[8*i+4:], uint32(in.Imm))
	}
	return b
}

// String prints the instruction as bpftool's `prog dump xlated` does.
func (in Insn) String() string {
	switch in.Op {
	case opLoadWord:
		return fmt.Sprintf("r%d = *(u32 *)(r%d +%d)", in.Dst, in.Src, in.Off)
	case opAnd32K:
		return fmt.Sprintf("w%d &= %d", in.Dst, in.Imm)
	case opRsh32K:
		return fmt.Sprintf("w%d >>= %d", in.Dst, in.Imm)
	case opMov32X:
		return fmt.Sprintf("w%d = w%d", in.Dst, in.Src)
	case opMov64K:
		return fmt.Sprintf("r%d = %d", in.Dst, in.Imm)
	case opJne32K:
		return fmt.Sprintf("if w%d != %#x goto pc+%d", in.Dst, uint32(in.Imm), in.Off)
	case opJne32X:
		return fmt.Sprintf("if w%d != w%d goto pc+%d", in.Dst, in.Src, in.Off)
	case opJeq32K:
		return fmt.Sprintf("if w%d == %#x goto pc+%d", in.Dst, uint32(in.Imm), in.Off)
	case opExit:
		return "exit"
	}
	return fmt.Sprintf("op %#x", in.Op)
}
