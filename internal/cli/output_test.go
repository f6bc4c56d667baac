package cli

import (
	"bytes"
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
