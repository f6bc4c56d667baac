package riskycalls

import (
	"errors"
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
