#include "textflag.h"

// func int80(trap, a1, a2, a3 uintptr) uintptr
// A system call through the 32-bit entry point (int $0x80): the kernel
// reads the number from eax and uses the i386 table, and tells seccomp
// the call came as AUDIT_ARCH_I386.
TEXT ·int80(SB),NOSPLIT,$0-40
	MOVQ trap+0(FP), AX
	MOVQ a1+8(FP), BX
	MOVQ a2+16(FP), CX
	MOVQ a3+24(FP), DX
	INT $0x80
	MOVQ AX, ret+32(FP)
	RET

// func int81()
// A software interrupt to a vector the kernel never opens to user space:
// the CPU raises a general protection fault, the kernel sends SIGSEGV.
// That is what int $0x80 meets on a kernel without IA32 emulation, so
// the tests can check that path on a kernel that has it.
TEXT ·int81(SB),NOSPLIT,$0-0
	INT $0x81
	RET
