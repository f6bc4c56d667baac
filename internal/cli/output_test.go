package cli

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestListingPrint(t *testing.T) {
	l := Listing{Header: []string{"DRIVER", "VOLUME NAME"}, Key: 1,
		Rows: [][]string{{"local", "data"}, {"local", "a-much-longer-name"}}}
	var b bytes.Buffer
	if err := l.Print(&b, false); err != nil {
		t.Fatal(err)
	}
	// docker volume ls's own spacing: each column at least 10 wide, 3 between.
	want := "DRIVER    VOLUME NAME\nlocal     data\nlocal     a-much-longer-name\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	if err := l.Print(&b, true); err != nil {
		t.Fatal(err)
	}
	if b.String() != "data\na-much-longer-name\n" {
		t.Errorf("-q printed %q, want the Key column alone", b.String())
	}
}

// TestChildExit: a child tool's exit code passes through; a child ended
// by a signal gives 128+N and a line that says so (not 255 in silence).
func TestChildExit(t *testing.T) {
	if code := CodeOf(ChildExit("pull", exec.Command("sh", "-c", "exit 3").Run())); code != 3 {
		t.Errorf("exit 3: code %d", code)
	}
	err := ChildExit("pull", exec.Command("sh", "-c", "kill -9 $$").Run())
	if code := CodeOf(err); code != 137 || !strings.Contains(err.Error(), "pull ended by signal 9") {
		t.Errorf("killed: code %d, %v; want 137 and the signal named", code, err)
	}
	if ChildExit("pull", nil) != nil {
		t.Errorf("a child that succeeded is an error")
	}
}
