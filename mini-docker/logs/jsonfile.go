// Package logs is a container's log as Docker's json-file driver keeps
// it: one JSON object per line of output, {"log":"hello\n",
// "stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}, so that
// stdout and stderr stay apart and every line has its time. The
// container's monitor writes it (Writer), `mini-docker logs` reads it
// back (Read) and writes each line to the stream it came from.
// --log-opt max-size and max-file rotate it (rotate.go).
package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Entry is one line of the log, Docker's jsonlog.JSONLog.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// File is a log file open for appending, shared by the two streams: a
// lock keeps each entry one whole line.
type File struct {
	mu sync.Mutex
	f  io.Writer
	// Set by Open: the file, its path and size, and when to rotate it (rotate.go).
	file *os.File
	path string
	size int64
	rot  Rotation
}

// NewFile writes entries to f.
func NewFile(f io.Writer) *File { return &File{f: f} }

// Writer is one stream of the log: what is written is cut at newlines,
// each line an entry. Close writes a last line that has no newline.
type Writer struct {
	file   *File
	stream string
	buf    []byte
}

// Stream returns the writer of stream ("stdout" or "stderr").
func (f *File) Stream(stream string) *Writer { return &Writer{file: f, stream: stream} }

func (w *Writer) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if err := w.file.write(w.stream, w.buf[:i+1]); err != nil {
			return 0, err
		}
		w.buf = w.buf[i+1:]
	}
	// A line longer than Docker's 16 KiB buffer is written in parts, as Docker does.
	for len(w.buf) >= 16<<10 {
		if err := w.file.write(w.stream, w.buf[:16<<10]); err != nil {
			return 0, err
		}
		w.buf = w.buf[16<<10:]
	}
	return len(p), nil
}

// Close writes what is left of an unfinished line.
func (w *Writer) Close() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.file.write(w.stream, w.buf)
	w.buf = nil
	return err
}

func (f *File) write(stream string, line []byte) error {
	b, err := json.Marshal(Entry{Log: string(line), Stream: stream, Time: time.Now().UTC()})
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rot.MaxSize > 0 && f.size >= f.rot.MaxSize {
		if err := f.rotate(); err != nil {
			return err
		}
	}
	n, err := f.f.Write(append(b, '\n'))
	f.size += int64(n)
	return err
}

// Pump copies r into the stream's entries until r ends, then closes the
// stream; done is closed after.
func (f *File) Pump(stream string, r io.Reader, done chan<- struct{}) {
	w := f.Stream(stream)
	io.Copy(w, r)
	w.Close()
	close(done)
}

// Read returns the entries of the log at path from offset on, and the
// offset after the last whole line; from offset 0, the rotated files'
// entries come first (--log-opt max-file). A missing file is an empty log.
// It holds the whole log in memory: Each is for what may be large.
func Read(path string, offset int64) ([]Entry, int64, error) {
	var out []Entry
	next, err := Each(path, offset, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, next, err
}

// Each calls fn with each entry of the log at path from offset on, in
// order, reading one line at a time (a log has no bound but its
// --log-opt max-size), and returns the offset after the last whole
// line; from offset 0, the rotated files' entries come first. An error
// from fn stops it. A missing file is an empty log.
func Each(path string, offset int64, fn func(Entry) error) (int64, error) {
	if offset == 0 {
		if err := eachOlder(path, fn); err != nil {
			return 0, err
		}
	}
	next, err := EachJSONLine(path, offset, fn)
	if os.IsNotExist(err) {
		return offset, nil
	}
	return next, err
}

// Tail calls fn with the entries of the log at path that keep accepts
// (nil: all), or with only the last n of them (n >= 0, --tail), in order,
// holding no more than n at a time; it returns the offset after the
// last whole line, where a follow goes on.
func Tail(path string, n int, keep func(Entry) bool, fn func(Entry) error) (int64, error) {
	var last []Entry // a ring once full: the oldest at next
	next := 0
	offset, err := Each(path, 0, func(e Entry) error {
		switch {
		case keep != nil && !keep(e):
		case n < 0:
			return fn(e)
		case len(last) < n:
			last = append(last, e)
		case n > 0:
			last[next], next = e, (next+1)%n
		}
		return nil
	})
	for _, e := range append(last[next:], last[:next]...) {
		if err == nil {
			err = fn(e)
		}
	}
	return offset, err
}

// ReadJSONLines returns the values of a file of one JSON object a line
// (a container's log, the events log) from offset on, and the offset
// after the last whole line (EachJSONLine).
func ReadJSONLines[T any](path string, offset int64) ([]T, int64, error) {
	var out []T
	next, err := EachJSONLine(path, offset, func(v T) error {
		out = append(out, v)
		return nil
	})
	return out, next, err
}

// EachJSONLine calls fn with the value of each line of a file of one
// JSON object a line from offset on, and returns the offset after the
// last whole line: a line being written is read next time, a line that
// is not a T is skipped. A file shorter than offset has been rotated
// since, and is read from its start. An error from fn stops it.
func EachJSONLine[T any](path string, offset int64, fn func(T) error) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return offset, err
	}
	defer f.Close()
	return eachLine(f, offset, fn)
}

// eachLine is EachJSONLine on an open file.
func eachLine[T any](f *os.File, offset int64, fn func(T) error) (int64, error) {
	if st, err := f.Stat(); err == nil && st.Size() < offset {
		offset = 0
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset, err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break
		}
		offset += int64(len(line))
		var v T
		if json.Unmarshal(line, &v) == nil {
			if err := fn(v); err != nil {
				return offset, err
			}
		}
	}
	return offset, nil
}

// Text is the log's lines, both streams in order, as plain text.
func Text(path string) []byte {
	es, _, _ := Read(path, 0)
	var b bytes.Buffer
	for _, e := range es {
		b.WriteString(e.Log)
	}
	return b.Bytes()
}
