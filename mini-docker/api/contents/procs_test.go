package contents

import (
	"strings"
	"testing"
)

func TestPsTable(t *testing.T) {
	out := "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
		"root           1       0  0 10:00 ?        00:00:01 /sbin/init splash\n" +
		"root        4242       1  0 10:01 ?        00:00:00 sleep 300\n"
	resp, err := psTable(out, map[string]bool{"4242": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Titles) != 8 || len(resp.Processes) != 1 || resp.Processes[0][7] != "sleep 300" || resp.Processes[0][1] != "4242" {
		t.Errorf("PsTable = %q", resp)
	}
	if _, err := psTable("USER COMMAND\nroot sleep\n", nil); err == nil || err.Error() != "Couldn't find PID field in ps output" {
		t.Errorf("no PID column: %v", err)
	}
}

// FuzzPsTable: whatever ps printed, each row has as many fields as
// there are titles, and its PID is one of the container's.
func FuzzPsTable(f *testing.F) {
	f.Add("UID PID CMD\nroot 7 sleep 300\nroot 8 sh\n", "7")
	f.Add("PID\n7\n\n", "7")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, out, pid string) {
		resp, err := psTable(out, map[string]bool{pid: true})
		if err != nil {
			return
		}
		col := -1
		for i, title := range resp.Titles {
			if title == "PID" {
				col = i
			}
		}
		for _, row := range resp.Processes {
			if len(row) != len(resp.Titles) || row[col] != pid {
				t.Fatalf("row %q for titles %q, pid %q", row, resp.Titles, pid)
			}
			if strings.Contains(row[len(row)-1], "\n") {
				t.Fatalf("a command spans lines: %q", row)
			}
		}
	})
}
