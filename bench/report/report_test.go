package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWriteKeepsTheDaysEarlierTables: a second and a third run on the
// same day write 2026-12-04b and c, never over the first.
func TestWriteKeepsTheDaysEarlierTables(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	var want []string
	for i, name := range []string{"2026-12-04", "2026-12-04b", "2026-12-04c"} {
		r := &Report{Started: day.Add(time.Duration(i) * time.Hour), Machine: map[string]string{}}
		paths, err := r.Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := filepath.Base(paths[0]); got != name+".md" {
			t.Errorf("run %d wrote %s, want %s.md", i+1, got, name)
		}
		b, _ := os.ReadFile(paths[0])
		want = append(want, string(b))
	}
	for i, name := range []string{"2026-12-04.md", "2026-12-04b.md", "2026-12-04c.md"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want[i] {
			t.Errorf("%s was written over", name)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "latest.md")); string(b) != want[2] {
		t.Error("latest.md is not the last run's table")
	}
}
