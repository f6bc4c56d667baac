// Package riskycalls tries a fixed list of system calls that container
// runtimes refuse (namespaces, mounts, the kernel keyring, exotic socket
// families, ...) next to ordinary work (files, processes, sockets), and
// reports the errno of each. Run it under a seccomp filter, a capability
// set or a container to see what the kernel lets through.
//
// Every probe is harmless even when it succeeds: mounts target a folder
// that does not exist, reboot gets an invalid magic number, ptrace asks
// about a process it does not trace, and anything created is closed or
// removed at once.
//
// It is shared by lesson 07 (lessons/07-seccomp.md, through the syscalls helper) and lesson 10 (lessons/10-versus-docker.md, through probe).
package riskycalls

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Probe is one system call to try.
type Probe struct {
	Name string
	// Why says what a container runtime thinks of this call.
	Why string
	// Try makes the call and returns its error (nil: it worked).
	Try func() error
}

// Result is what a probe got.
type Result struct {
	Name string
	Err  error
}

// String is "name: OK" or "name: EPERM".
func (r Result) String() string { return r.Name + ": " + Outcome(r.Err) }

// Outcome names an error the way the probe prints it: OK for success,
// the errno's name (EPERM, ENOSYS, ...) for a failed system call.
func Outcome(err error) string {
	if err == nil {
		return "OK"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
		return fmt.Sprintf("errno %d", int(e))
	}
	return "error: " + err.Error()
}

// The address families Docker's default profile refuses.
const (
	afALG   = 38 // the kernel crypto API (CVE-2026-31431, "Copy Fail")
	afVSOCK = 40 // host <-> VM sockets
)

// personality(2) values.
const (
	perQuery          = 0xffffffff
	perReadImpliesExe = 0x0400000 // READ_IMPLIES_EXEC: every readable page executable
)

// probeTarget is a path that does not exist, so a mount that got past
// every check would still fail with ENOENT instead of mounting anything.
const probeTarget = "/nonexistent-riskycalls-probe"

// Probes returns the probes, risky ones first.
func Probes() []Probe {
	return []Probe{
		{"unshare_newuser", "a user namespace gives root-like capabilities inside it: a big kernel attack surface",
			func() error { return unix.Unshare(unix.CLONE_NEWUSER) }},
		{"mount", "mounting needs CAP_SYS_ADMIN and could expose the host",
			func() error { return unix.Mount("none", probeTarget, "tmpfs", 0, "") }},
		{"keyctl", "the kernel keyring was not namespaced",
			func() error {
				_, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
				return err
			}},
		{"ptrace", "tracing other processes reads their memory",
			func() error {
				// PEEKDATA on a process we do not trace: ESRCH when allowed.
				_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_PEEKDATA, 1, 0, 0, 0, 0)
				return errnoErr(e)
			}},
		{"personality_read_implies_exec", "READ_IMPLIES_EXEC turns off non-executable memory",
			tryPersonality},
		{"clone3", "clone3 passes its flags in memory a filter cannot read",
			func() error {
				// A NULL clone_args of size 0: EINVAL when allowed, nothing cloned.
				_, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
				return errnoErr(e)
			}},
		{"socket_vsock", "AF_VSOCK talks to the hypervisor host",
			func() error { return trySocket(afVSOCK, unix.SOCK_STREAM) }},
		{"socket_alg", "AF_ALG exposes the kernel crypto API (CVE-2026-31431)",
			func() error { return trySocket(afALG, unix.SOCK_SEQPACKET) }},
		{"reboot", "rebooting is for the host, not a container",
			func() error {
				// Invalid magic numbers: EINVAL when allowed; never reboots.
				_, _, e := unix.Syscall6(unix.SYS_REBOOT, 0, 0, 0, 0, 0, 0)
				return errnoErr(e)
			}},
		{"file", "ordinary work: create, write, read back, rename, remove", inTempDir(tryFile)},
		{"dir", "ordinary work: mkdir and rmdir", inTempDir(tryDir)},
		{"process", "ordinary work: fork and exec a child, wait for it", tryProcess},
		{"socket_unix", "ordinary work: a socketpair round trip", trySocketpair},
		{"socket_inet", "ordinary work: a TCP socket", func() error { return trySocket(unix.AF_INET, unix.SOCK_STREAM) }},
	}
}

// Run tries every probe, in order.
func Run() []Result {
	var rs []Result
	for _, p := range Probes() {
		rs = append(rs, Result{p.Name, p.Try()})
	}
	return rs
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func tryPersonality() error {
	old, _, e := unix.Syscall(unix.SYS_PERSONALITY, perQuery, 0, 0)
	if e != 0 {
		return e
	}
	_, _, e = unix.Syscall(unix.SYS_PERSONALITY, perReadImpliesExe, 0, 0)
	if e != 0 {
		return e
	}
	unix.Syscall(unix.SYS_PERSONALITY, old, 0, 0) // put it back
	return nil
}

func trySocket(family, typ int) error {
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// inTempDir returns a probe that runs try in a temporary folder of its
// own, removed afterwards.
func inTempDir(try func(dir string) error) func() error {
	return func() error {
		dir, err := os.MkdirTemp("", "riskycalls-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		return try(dir)
	}
}

func tryFile(dir string) error {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("hello"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		return err
	}
	got, err := os.ReadFile(b)
	if err != nil {
		return err
	}
	if string(got) != "hello" {
		return fmt.Errorf("read back %q", got)
	}
	return os.Remove(b)
}

func tryDir(dir string) error {
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o700); err != nil {
		return err
	}
	return os.Remove(d)
}

// ChildArg is the argument with which a program importing this package
// runs itself as the "process" probe's child; such a program calls
// ChildMain first thing in main.
const ChildArg = "riskycalls-child"

// ChildMain exits at once with status 0 when the program was started as
// the process probe's child.
func ChildMain() {
	if len(os.Args) == 2 && os.Args[1] == ChildArg {
		os.Exit(0)
	}
}

func tryProcess() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pid, err := syscall.ForkExec(self, []string{self, ChildArg}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		return err
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("child ended with %v", ws)
	}
	return nil
}

func trySocketpair() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if _, err := unix.Write(fds[0], []byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	n, err := unix.Read(fds[1], buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "ping" {
		return fmt.Errorf("read %q", buf[:n])
	}
	return nil
}
