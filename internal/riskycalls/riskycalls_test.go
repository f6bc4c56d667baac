package riskycalls

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "OK"},
		{syscall.EPERM, "EPERM"},
		{syscall.ENOSYS, "ENOSYS"},
		{&wrapped{syscall.EAFNOSUPPORT}, "EAFNOSUPPORT"},
		{errors.New("child ended with signal 9"), "error: child ended with signal 9"},
	} {
		if got := Outcome(c.err); got != c.want {
			t.Errorf("Outcome(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "socket: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// The probe's output is parsed by name: names must be unique and the
// risky calls the tests and lesson rely on must be there.
func TestProbeNames(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Probes() {
		if seen[p.Name] {
			t.Errorf("probe %q twice", p.Name)
		}
		seen[p.Name] = true
		if p.Why == "" {
			t.Errorf("probe %q says nothing about why it matters", p.Name)
		}
	}
	for _, n := range []string{"unshare_newuser", "mount", "keyctl", "ptrace", "personality_read_implies_exec",
		"clone3", "socket_vsock", "socket_alg", "reboot", "file", "process", "socket_unix"} {
		if !seen[n] {
			t.Errorf("no probe %q", n)
		}
	}
}

// The probe tells a kernel that answers from a CPU that faults. This
// kernel has IA32 emulation or not (both answers are right, and the
// fault path is then the one checked with int81 below), but the probe
// must agree with a direct call made in this very process when it says
// yes.
func TestIA32Emulation(t *testing.T) {
	if !HasInt80 {
		t.Skip("int 0x80 is x86_64's 32-bit entry point")
	}
	ok, err := IA32Emulation()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IA32 emulation: %v", ok)
	if ok {
		if pid, err := Int80Getpid(); err != nil || pid != os.Getpid() {
			t.Errorf("the probe says yes, but int 0x80 getpid = %d, %v; want %d", pid, err, os.Getpid())
		}
	}
}

// An interrupt vector no kernel opens to user space faults the way int
// 0x80 does without IA32 emulation: the probe must say no, not crash.
func TestProbeFault(t *testing.T) {
	if !HasInt80 {
		t.Skip("int 0x80 is x86_64's 32-bit entry point")
	}
	ok, err := probe("int81")
	if err != nil || ok {
		t.Errorf("probe(int81) = %v, %v; want false, nil (the CPU faults)", ok, err)
	}
	if _, err := probe("bogus"); err == nil {
		t.Errorf("probe(bogus) succeeded, want an error")
	}
}
