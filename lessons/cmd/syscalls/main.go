// Command syscalls tries risky and ordinary system calls and prints what
// each got, one line per call: "name: OK", "name: EPERM", "name: ENOSYS".
// Run it under seccompctl, capctl or a container to see the filter work.
//
//	syscalls           every probe of internal/riskycalls
//	syscalls -v        the same, with why a runtime cares about each call
//	syscalls int80     getpid through x86_64's 32-bit entry point (int 0x80)
package main

import (
	"fmt"
	"os"

	"mini-docker/internal/riskycalls"
)

func main() {
	riskycalls.ChildMain()
	switch {
	case len(os.Args) == 2 && os.Args[1] == "int80":
		pid, err := riskycalls.Int80Getpid()
		if err != nil {
			fmt.Printf("int80_getpid: %s\n", riskycalls.Outcome(err))
			os.Exit(1)
		}
		fmt.Printf("int80_getpid: OK (pid %d)\n", pid)
	case len(os.Args) == 2 && os.Args[1] == "-v":
		for _, p := range riskycalls.Probes() {
			fmt.Printf("%s: %s\t# %s\n", p.Name, riskycalls.Outcome(p.Try()), p.Why)
		}
	case len(os.Args) == 1:
		for _, r := range riskycalls.Run() {
			fmt.Println(r)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: syscalls [-v | int80]")
		os.Exit(2)
	}
}
