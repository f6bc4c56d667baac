package procfs

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestReadStatSelf(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.Ppid != os.Getppid() {
		t.Errorf("Ppid = %d, want %d", st.Ppid, os.Getppid())
	}
	if st.State != 'R' && st.State != 'S' {
		t.Errorf("State = %q, want R or S", st.State)
	}
	if st.StartTime == 0 {
		t.Error("StartTime = 0")
	}
	if want := "procfs.test"; st.Comm != want {
		t.Errorf("Comm = %q, want %q", st.Comm, want)
	}
	if !slices.Contains(PIDs(), os.Getpid()) {
		t.Errorf("PIDs() lacks this process (%d)", os.Getpid())
	}
	if _, err := ReadStat(-1); err == nil {
		t.Error("ReadStat(-1): no error")
	}
}

func TestParseStat(t *testing.T) {
	rest := " 812 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0"
	for _, tc := range []struct {
		in   string
		want Stat
		ok   bool
	}{
		{"812 (sleep) S 1" + rest, Stat{Comm: "sleep", State: 'S', Ppid: 1, StartTime: 4242}, true},
		// A process may name itself ") Z 9 (": only the last ")" ends the name.
		{"812 (a) Z 9 (b) R 77" + rest, Stat{Comm: "a) Z 9 (b", State: 'R', Ppid: 77, StartTime: 4242}, true},
		{"812 (x y) D 2" + rest, Stat{Comm: "x y", State: 'D', Ppid: 2, StartTime: 4242}, true},
		{"812 sleep S 1" + rest, Stat{}, false},
		{"812 (sleep) S 1 2 3", Stat{}, false},
		{"812 (sleep) S x" + rest, Stat{}, false},
		{"812 (sleep) SS 1" + rest, Stat{}, false},
		{")(", Stat{}, false},
	} {
		got, err := ParseStat(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseStat(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseStat: any text parses or fails without a panic, and what
// parses names a command that stands between parentheses in the text.
func FuzzParseStat(f *testing.F) {
	f.Add("812 (sleep) S 1 812 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0")
	f.Add("1 (a) b) R 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStat(s)
		if err != nil {
			return
		}
		if !strings.Contains(s, "("+st.Comm+")") {
			t.Fatalf("Comm %q is not between parentheses in %q", st.Comm, s)
		}
	})
}
