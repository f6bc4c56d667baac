// Command syscalls tries risky and ordinary system calls and prints what
// each got, one line per call: "name: OK", "name: EPERM", "name: ENOSYS".
// Run it under seccompctl, capctl or a container to see the filter work.
//
//	syscalls           every probe of internal/riskycalls
//	syscalls -v        the same, with why a runtime cares about each call
//	syscalls int80     getpid through x86_64's 32-bit entry point (int 0x80);
//	                   exit 3 with one line saying so when the kernel has no
//	                   IA32 emulation (the CPU would fault: SIGSEGV)
//	syscalls raw NR [ARG0 ...]   one system call by number, with up to 6 arguments
//
// It belongs to lesson 07 (lessons/07-seccomp.md).
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"mini-docker/internal/riskycalls"
)

// exitNoIA32 is int80's exit status on a kernel without IA32 emulation.
const exitNoIA32 = 3

func main() {
	riskycalls.ChildMain()
	switch {
	case len(os.Args) == 2 && os.Args[1] == "int80":
		ia32, err := riskycalls.IA32Emulation()
		if err != nil {
			fmt.Fprintf(os.Stderr, "syscalls: error: %v\n", err)
			os.Exit(125)
		}
		if !ia32 {
			fmt.Println("int80_getpid: no IA32 emulation: this kernel does not run 32-bit int 0x80 calls (CONFIG_IA32_EMULATION off, or ia32_emulation=0 at boot)")
			os.Exit(exitNoIA32)
		}
		pid, err := riskycalls.Int80Getpid()
		if err != nil {
			fmt.Printf("int80_getpid: %s\n", riskycalls.Outcome(err))
			os.Exit(1)
		}
		fmt.Printf("int80_getpid: OK (pid %d)\n", pid)
	case len(os.Args) >= 3 && len(os.Args) <= 9 && os.Args[1] == "raw":
		var v [7]uintptr
		for i, s := range os.Args[2:] {
			n, err := strconv.ParseUint(s, 0, 64)
			if err != nil {
				fmt.Fprintf(os.Stderr, "syscalls: raw: %q is not a number\n", s)
				os.Exit(2)
			}
			v[i] = uintptr(n)
		}
		_, _, e := unix.Syscall6(v[0], v[1], v[2], v[3], v[4], v[5], v[6])
		var err error
		if e != 0 {
			err = e
		}
		fmt.Printf("%d: %s\n", v[0], riskycalls.Outcome(err))
	case len(os.Args) == 2 && os.Args[1] == "-v":
		for _, p := range riskycalls.Probes() {
			fmt.Printf("%s: %s\t# %s\n", p.Name, riskycalls.Outcome(p.Try()), p.Why)
		}
	case len(os.Args) == 1:
		for _, r := range riskycalls.Run() {
			fmt.Println(r)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: syscalls [-v | int80 | raw NR [ARGS...]]")
		os.Exit(2)
	}
}
