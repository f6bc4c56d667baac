package riskycalls

import "golang.org/x/sys/unix"

func int80(trap, a1, a2, a3 uintptr) uintptr

func int81()

// i386's number for getpid (arch/x86/entry/syscalls/syscall_32.tbl);
// x86_64's is 39.
const sys386Getpid = 20

// Int80Getpid calls getpid through the 32-bit "int 0x80" entry point of
// x86_64, the ABI of i386 programs. It returns the pid, or the errno the
// kernel answered. Under a filter that lets only x86_64 calls through,
// the process is killed before this returns. On a kernel without IA32
// emulation the CPU faults instead (see IA32Emulation): call that first.
func Int80Getpid() (int, error) {
	r := int64(int80(sys386Getpid, 0, 0, 0))
	if r < 0 && r > -4096 {
		return 0, unix.Errno(-r)
	}
	return int(r), nil
}

// HasInt80 reports whether this architecture has a 32-bit entry point
// Int80Getpid can use.
const HasInt80 = true
