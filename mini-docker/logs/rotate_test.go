package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotation: with max-size and max-file 3, the log is its file and
// two older ones, and a read from the start gives the newest lines in
// order, without a gap, ending with the last; with max-file 1 the file
// starts again empty. Docker's json-file keeps them so.
func TestRotation(t *testing.T) {
	for _, files := range []int{1, 3} {
		path := filepath.Join(t.TempDir(), "c-json.log")
		lf, err := Open(path, Rotation{MaxSize: 400, MaxFiles: files})
		if err != nil {
			t.Fatal(err)
		}
		w := lf.Stream("stdout")
		for i := 0; i < 100; i++ {
			fmt.Fprintf(w, "line %d\n", i)
		}
		lf.Close()
		for i := 1; i <= 3; i++ {
			_, err := os.Stat(fmt.Sprintf("%s.%d", path, i))
			if want := i < files; (err == nil) != want {
				t.Errorf("max-file %d: %s.%d exists: %v, want %v", files, path, i, err == nil, want)
			}
		}
		if st, _ := os.Stat(path); st.Size() > 400+100 {
			t.Errorf("max-file %d: the log holds %d bytes, over max-size and one entry", files, st.Size())
		}
		es, _, err := Read(path, 0)
		if err != nil || len(es) == 0 || len(es) >= 100 {
			t.Fatalf("max-file %d: read %d entries, %v", files, len(es), err)
		}
		first := 100 - len(es)
		for i, e := range es {
			if want := fmt.Sprintf("line %d\n", first+i); e.Log != want {
				t.Fatalf("max-file %d: entry %d is %q, want %q", files, i, e.Log, want)
			}
		}
	}
}

// TestParseRotation: Docker's defaults and its words for bad options.
func TestParseRotation(t *testing.T) {
	if r, err := ParseRotation(map[string]string{"max-size": "10k", "max-file": "3"}); err != nil || r != (Rotation{MaxSize: 10000, MaxFiles: 3}) {
		t.Errorf("max-size=10k max-file=3: %+v, %v", r, err)
	}
	if r, err := ParseRotation(nil); err != nil || r != (Rotation{MaxFiles: 1}) {
		t.Errorf("none: %+v, %v", r, err)
	}
	for opt, msg := range map[string]string{
		"max-size=abc": "failed to initialize logging driver: invalid size: 'abc'",
		"max-file=0":   "failed to initialize logging driver: max-file cannot be less than 1",
		"foo=bar":      "unknown log opt 'foo' for json-file log driver",
	} {
		k, v, _ := strings.Cut(opt, "=")
		if _, err := ParseRotation(map[string]string{k: v}); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %s", opt, err, msg)
		}
	}
}

// FuzzParseRotation: options that are accepted rotate sensibly: at
// least one file, a size that is not negative.
func FuzzParseRotation(f *testing.F) {
	f.Add("max-size", "10m", "max-file", "3")
	f.Add("max-size", "-1", "max-file", "x")
	f.Add("compress", "true", "max-file", "0")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		r, err := ParseRotation(map[string]string{k1: v1, k2: v2})
		if err == nil && (r.MaxFiles < 1 || r.MaxSize < 0) {
			t.Fatalf("%s=%s %s=%s: %+v", k1, v1, k2, v2, r)
		}
	})
}
