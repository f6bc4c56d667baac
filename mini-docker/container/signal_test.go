package container

import (
	"syscall"
	"testing"
)

// TestParseSignal: kill's SIGNAL as docker kill and runc kill take it: a number, a name with
// or without SIG, any case.
func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"9": syscall.SIGKILL, "KILL": syscall.SIGKILL,
		"sigterm": syscall.SIGTERM, "SIGUSR1": syscall.SIGUSR1, "15": syscall.SIGTERM} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "65", "NOPE", "-9"} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) succeeded", bad)
		}
	}
}

// FuzzParseSignal: any argument is a signal of 1-64 or an error.
func FuzzParseSignal(f *testing.F) {
	f.Add("KILL")
	f.Add("15")
	f.Fuzz(func(t *testing.T, s string) {
		if sig, err := ParseSignal(s); err == nil && (sig < 1 || sig > 64) {
			t.Fatalf("ParseSignal(%q) = %d", s, sig)
		}
	})
}
