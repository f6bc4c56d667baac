package report

import (
	"os"
	"path/filepath"
	"strings"
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

// A run judged no slower than another is slower only when the 95%
// confidence interval of its per-round ratio lies wholly above 1×.
func TestNoSlowerJudgesTheRoundsRatios(t *testing.T) {
	var even, slower, noise []float64
	for i := 0; i < 30; i++ {
		even = append(even, 0.95+0.1*float64(i)/29) // 0.95 ... 1.05
		slower = append(slower, 1.04+0.02*float64(i)/29)
		noise = append(noise, 0.96+0.1*float64(i)/29) // median 1.01, CI reaching below 1
	}
	for _, c := range []struct {
		name   string
		ratios []float64
		met    bool
	}{{"even", even, true}, {"a hair over, within the noise", noise, true}, {"slower in every round", slower, false}} {
		row := &Row{Unit: "ms", Stats: &Stats{Median: 16}}
		row.NoSlower(c.ratios, "the other")
		if got := strings.HasPrefix(row.Status, "met"); got != c.met {
			t.Errorf("%s: status %q, want met=%v", c.name, row.Status, c.met)
		}
	}
	var ranks []float64
	for i := 1; i <= 30; i++ {
		ranks = append(ranks, float64(i))
	}
	if lo, med, hi := MedianCI(ranks); lo != 10 || med != 15.5 || hi != 22 {
		t.Errorf("MedianCI(1..30) = %v, %v, %v; want the 10th, the median 15.5, the 22nd", lo, med, hi)
	}
}
