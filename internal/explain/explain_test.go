package explain

import (
	"bytes"
	"testing"
)

// File prints a text file as the printf that writes it, one quoted word
// a line; a nil Printer prints nothing.
func TestFile(t *testing.T) {
	var b bytes.Buffer
	New(&b).File("/etc/my hosts", []byte("127.0.0.1 localhost\n::1 'lo'\n"))
	want := `+ printf '%s\n' '127.0.0.1 localhost' '::1 '\''lo'\''' > '/etc/my hosts'` + "\n"
	if b.String() != want {
		t.Errorf("File printed\n%s\nwant\n%s", b.String(), want)
	}
	var p *Printer
	p.File("/x", []byte("y\n"))
}

// Note keeps a newline in what it says (a name) inside the comment: the
// next line starts with "# " too, never a command.
func TestNoteKeepsNewlinesCommented(t *testing.T) {
	var b bytes.Buffer
	New(&b).Note("below %s", "/n\ntouch /tmp/x")
	if want := "# below /n\n# touch /tmp/x\n"; b.String() != want {
		t.Errorf("Note printed %q, want %q", b.String(), want)
	}
}
