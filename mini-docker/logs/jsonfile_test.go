package logs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines are cut at newlines per stream, a last partial line is written
// on Close, and Read gives them back with their streams, from an offset.
func TestWriteRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c-json.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	lf := NewFile(f)
	out, errw := lf.Stream("stdout"), lf.Stream("stderr")
	out.Write([]byte("a\nb"))
	errw.Write([]byte("oops\n"))
	out.Write([]byte("c\n"))
	out.Write([]byte("end"))
	out.Close()
	errw.Close()
	f.Close()
	es, off, err := Read(p, 0)
	if err != nil || len(es) != 4 {
		t.Fatalf("Read: %v %+v", err, es)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Stream+":"+e.Log)
	}
	if strings.Join(got, "|") != "stdout:a\n|stderr:oops\n|stdout:bc\n|stdout:end" || es[0].Time.IsZero() {
		t.Errorf("entries: %q", got)
	}
	if more, _, _ := Read(p, off); len(more) != 0 {
		t.Errorf("from the end: %+v", more)
	}
	if !bytes.Equal(Text(p), []byte("a\noops\nbc\nend")) {
		t.Errorf("Text: %q", Text(p))
	}
	if es, _, err := Read(filepath.Join(t.TempDir(), "none"), 0); err != nil || es != nil {
		t.Errorf("missing file: %v %v", es, err)
	}
}

// TestReadJSONLines: a line still being written waits for the next read,
// a line that does not parse is skipped, and a file shorter than the
// offset (rotated) is read from its start.
func TestReadJSONLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, []byte(`{"log":"a\n"}`+"\nnot json\n"+`{"log":"b`), 0o644); err != nil {
		t.Fatal(err)
	}
	es, off, err := ReadJSONLines[Entry](p, 0)
	if err != nil || len(es) != 1 || es[0].Log != "a\n" || off != 23 {
		t.Fatalf("first read: %+v at %d, %v; want one entry and offset 23", es, off, err)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\"}\n")
	f.Close()
	if es, off, err = ReadJSONLines[Entry](p, off); err != nil || len(es) != 1 || es[0].Log != "b" {
		t.Fatalf("the finished line: %+v at %d, %v", es, off, err)
	}
	if err := os.WriteFile(p, []byte(`{"log":"c"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if es, _, err = ReadJSONLines[Entry](p, off); err != nil || len(es) != 1 || es[0].Log != "c" {
		t.Fatalf("after rotation: %+v, %v", es, err)
	}
}

// Tail gives the last n entries (of those keep accepts) in order, the
// rotated files' first, all of them for n < 0, none for 0.
func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	write := func(p string, from, to int) {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, `{"log":"%d\n","stream":"stdout","time":"2026-01-02T03:04:%02dZ"}`+"\n", i, i)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(path+".1", 1, 4)
	write(path, 5, 9)
	odd := func(e Entry) bool { return e.Time.Second()%2 == 1 }
	for _, tc := range []struct {
		n    int
		keep func(Entry) bool
		want string
	}{
		{3, nil, "789"}, {6, nil, "456789"}, {-1, nil, "123456789"}, {0, nil, ""}, {100, nil, "123456789"},
		{2, odd, "79"}, {-1, odd, "13579"},
	} {
		var got strings.Builder
		offset, err := Tail(path, tc.n, tc.keep, func(e Entry) error { got.WriteString(strings.TrimSpace(e.Log)); return nil })
		if err != nil || got.String() != tc.want {
			t.Errorf("Tail(n=%d): %q, %v; want %q", tc.n, got.String(), err, tc.want)
		}
		if st, _ := os.Stat(path); offset != st.Size() {
			t.Errorf("Tail(n=%d) offset %d, want the file's end %d", tc.n, offset, st.Size())
		}
	}
}
