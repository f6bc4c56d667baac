// Package seccomp filters the system calls of a process with a seccomp
// BPF program, compiled here in Go from a Docker/OCI JSON profile (no
// libseccomp).
//
// The model, in the kernel's words:
//
//	profile (JSON)  --Resolve-->  rules for this arch, caps, kernel
//	rules           --Compile-->  classic BPF program (Program)
//	Program         --Install-->  prctl(PR_SET_NO_NEW_PRIVS) if needed,
//	                              seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)
//	then exec: the filter stays on the process and every child, forever.
//
// For each system call the kernel runs the program on a struct
// seccomp_data {nr, arch, instruction_pointer, args[6]} and obeys what it
// returns: ALLOW, ERRNO(e) (the call fails with e, never having run),
// KILL_PROCESS, TRAP (SIGSYS), LOG, TRACE. Run executes the same program
// in Go, so `seccompctl check` and the kernel never disagree.
//
// This file reads like lesson 07: compile the profile, then install it.
//
// Lesson 07 (lessons/07-seccomp.md) teaches it.
package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// Build resolves a profile for the process opts describes and compiles
// it into a BPF program.
func Build(p *Profile, opts Options) (*Resolved, *Program, error) {
	r, err := Resolve(p, opts)
	if err != nil {
		return nil, nil, err
	}
	prog, err := Compile(r)
	if err != nil {
		return nil, nil, fmt.Errorf("compile %s: %w", p.Source, err)
	}
	return r, prog, nil
}

// Install loads prog as the seccomp filter of every thread of the calling
// process. Afterwards only exec should follow: the filter cannot be
// removed, and from here on the Go runtime itself is filtered too.
//
// The kernel lets a process install a filter only if it has
// CAP_SYS_ADMIN or has set no_new_privs: otherwise a filter could make a
// setuid program fail in ways its author never planned for (a denied
// setuid() that "succeeds" as ERRNO(0), say) and trick it into running
// with root's power. That is why the composed run installs seccomp
// *before* capctl drops CAP_SYS_ADMIN, as runc does, and why without the
// capability we set no_new_privs first.
//
// Install locks the calling goroutine to its OS thread and leaves it
// locked: no_new_privs is a per-thread attribute, so setting it, the
// seccomp(2) call and the exec that follows must all happen on one
// thread.
func Install(prog *Program, p *explain.Printer) error {
	runtime.LockOSThread()
	if !hasCapSysAdmin() {
		if err := setNoNewPrivs(p); err != nil {
			return err
		}
	}
	return loadFilter(prog, p)
}

// setNoNewPrivs promises the kernel this process will never gain
// privileges through exec (setuid bits and file capabilities are
// ignored from now on), which is what allows an unprivileged filter.
func setNoNewPrivs(p *explain.Printer) error {
	p.Note("no CAP_SYS_ADMIN: the kernel accepts a filter only after no_new_privs")
	p.Cmd("setpriv --no-new-privs   # prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)")
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	return nil
}

// loadFilter hands the program to seccomp(2). SECCOMP_FILTER_FLAG_TSYNC
// applies it to every thread of the process at once: a Go program always
// has several, and a thread left unfiltered could do anything.
func loadFilter(prog *Program, p *explain.Printer) error {
	p.Cmd("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=%d, filter=...})   # see: seccompctl dump", len(prog.Insns))
	if len(prog.Insns) == 0 {
		return fmt.Errorf("seccomp: empty program")
	}
	fprog := unix.SockFprog{Len: uint16(len(prog.Insns)), Filter: &prog.Insns[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	if r != 0 {
		// With TSYNC, a positive return is the thread that could not be
		// synchronized (it has an incompatible filter of its own).
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d could not take the filter", r)
	}
	return nil
}

// hasCapSysAdmin reports whether the calling thread has CAP_SYS_ADMIN in
// its effective set.
func hasCapSysAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) != 0
}

// Check says what the program does with one system call: the
// seccomp_data the kernel would build for it, run through the program.
func Check(prog *Program, arch *Arch, name string, args []uint64) (uint32, error) {
	nr, ok := arch.Number(name)
	if !ok {
		return 0, fmt.Errorf("unknown system call %q on %s", name, arch.Name)
	}
	d := &Data{Nr: nr, Arch: arch.Audit}
	copy(d.Args[:], args)
	return Run(prog.Insns, d)
}

// Warnings returns one line for each name of p that is no system call
// on any architecture (a typo, or a call newer than this table): Docker
// skips those with a warning rather than refusing the profile.
func Warnings(p *Profile, r *Resolved) []string {
	var out []string
	for _, n := range r.Unknown {
		out = append(out, fmt.Sprintf("%s: unknown system call %q skipped (as Docker does)", p.Source, n))
	}
	return out
}
