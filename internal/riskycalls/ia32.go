package riskycalls

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"syscall"

	"golang.org/x/sys/unix"
)

// An x86_64 kernel runs the 32-bit (i386) system call ABI only with IA32
// emulation. Distributions build it in (CONFIG_IA32_EMULATION), but it
// can be left out, or switched off at boot (ia32_emulation=0, kernel 6.7
// and later, or built off by default with
// CONFIG_IA32_EMULATION_DEFAULT_DISABLED). Without it the kernel opens no
// interrupt gate to user space at vector 0x80, so `int $0x80` makes the
// CPU raise a general protection fault, which the kernel delivers as
// SIGSEGV: the call never reaches the system call entry, so not even a
// seccomp filter sees it.
//
// The kernel's config (/proc/config.gz, often absent) and command line
// tell only part of that story, so IA32Emulation asks the CPU: it makes
// the call in a child process, where the fault cannot end the caller.

// probeEnv names the variable that starts a program importing this
// package as a probe child (see init below).
const probeEnv = "RISKYCALLS_PROBE"

// The probe child's exit codes.
const (
	probeAnswered = 0  // the kernel answered the call
	probeFaulted  = 3  // the CPU faulted (SIGSEGV, caught)
	probeUnknown  = 64 // no such probe
)

// init turns the program into the probe child when IA32Emulation started
// it: this runs before the program's main, so every program that imports
// the package can probe, test binaries included.
func init() {
	if which := os.Getenv(probeEnv); which != "" {
		probeChild(which)
	}
}

func probeChild(which string) {
	// The fault is expected: no core dump of it.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// A fault that carries no address (si_code SI_KERNEL) is fatal to a
	// Go program by default; SetPanicOnFault turns it into a panic this
	// goroutine can recover.
	debug.SetPanicOnFault(true)
	defer func() {
		if recover() != nil {
			os.Exit(probeFaulted)
		}
	}()
	switch which {
	case "int80":
		Int80Getpid()
	case "int81": // a vector the kernel never opens: always faults (for the tests)
		int81()
	default:
		os.Exit(probeUnknown)
	}
	os.Exit(probeAnswered)
}

// IA32Emulation reports whether the kernel runs 32-bit system calls made
// with `int $0x80`. It makes one (getpid) in a child process, this very
// program started again from /proc/self/exe with RISKYCALLS_PROBE=int80.
// A child killed by SIGSYS counts as yes: a seccomp filter saw the call,
// so the kernel's 32-bit entry exists. Always false off x86_64.
func IA32Emulation() (bool, error) {
	if !HasInt80 {
		return false, nil
	}
	return probe("int80")
}

// probe runs a probe child and reports whether the kernel answered its
// call (true) or the CPU faulted (false).
func probe(which string) (bool, error) {
	self, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("int 0x80 probe: find this program: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), probeEnv+"="+which)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &exit):
		return false, fmt.Errorf("int 0x80 probe: run %s: %w", self, err)
	}
	ws, _ := exit.Sys().(syscall.WaitStatus)
	switch {
	case ws.Exited() && ws.ExitStatus() == probeFaulted:
		return false, nil
	case ws.Signaled() && ws.Signal() == syscall.SIGSEGV:
		return false, nil
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS:
		return true, nil
	}
	return false, fmt.Errorf("int 0x80 probe: the child (%s) ended with %v, neither answered nor faulted", self, ws)
}
