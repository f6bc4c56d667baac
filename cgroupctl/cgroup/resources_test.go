package cgroup

import (
	"slices"
	"strings"
	"testing"
)

// TestLimitFlagsRoundTrip: the command line Resources.Flags renders
// (what mini-docker --explain prints for cgroupctl create) parses back,
// through cgroupctl's own flags (LimitFlags), into the same limits.
func TestLimitFlagsRoundTrip(t *testing.T) {
	for _, r := range []Resources{
		{},
		{Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 20 << 20, OOMKillDisable: true},
		{NanoCPUs: 500000000, CPUShares: 512, CpusetCpus: "0", PidsLimit: 20},
		{Memory: 32 << 20, MemorySwap: -1},
	} {
		var back Resources
		f := r.Flags()
		for i := 0; i < len(f); i++ {
			name := strings.TrimPrefix(f[i], "--")
			k := slices.IndexFunc(LimitFlags, func(l LimitFlag) bool { return l.Name == name })
			if k < 0 {
				t.Fatalf("%q: no LimitFlag %s", f, name)
			}
			v := "true"
			if !LimitFlags[k].Bool {
				i++
				v = f[i]
			}
			if err := LimitFlags[k].Set(&back, v); err != nil {
				t.Fatalf("%q: %v", f, err)
			}
		}
		if back != r {
			t.Errorf("%+v renders as %q, which parses as %+v", r, f, back)
		}
	}
}

// FuzzParseDeviceRules: rules ParseDeviceRules accepts are lines the
// devices controller reads: TYPE MAJOR:MINOR ACCESS, no comma or newline
// inside one (a newline would be a second write's worth in one).
func FuzzParseDeviceRules(f *testing.F) {
	for _, s := range []string{"c 10:229 rwm", "b *:* m", "c 1:3 r,c 1:5 rw", "a", "c 10:229", "x 1:1 r", "c 1:1 rwmr", "c -1:1 r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDeviceRules(s)
		if err != nil {
			return
		}
		if got != s {
			t.Fatalf("ParseDeviceRules(%q) = %q", s, got)
		}
		for _, r := range strings.Split(s, ",") {
			f := strings.Fields(r)
			if len(f) != 3 || strings.ContainsAny(r, "\n\r") || !strings.Contains("abc", f[0]) {
				t.Fatalf("ParseDeviceRules accepted %q", r)
			}
		}
	})
}
