// Package report is make bench's result: the table of measured rows,
// each with its median, spread, comparison and target, the findings,
// and the Markdown and JSON it is written as (bench/results/).
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Row is one line of the table: a measured subject, what it is compared
// with, the ratio of the medians, and the target when it has one.
type Row struct {
	Bench   string  `json:"bench"`
	Subject string  `json:"subject"`
	Unit    string  `json:"unit"`
	Stats   *Stats  `json:"stats,omitempty"` // repeated runs
	Value   float64 `json:"value,omitempty"` // a single measurement (wall time of a batch, a count)
	Versus  string  `json:"versus,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	Target  string  `json:"target,omitempty"`
	Status  string  `json:"status,omitempty"` // "met", "NOT met: ...", "n/a: ..."
	Note    string  `json:"note,omitempty"`
}

// Report is the whole result: rows, every sample, the machine.
type Report struct {
	Started  time.Time            `json:"started"`
	Duration string               `json:"duration"`
	Quick    bool                 `json:"quick"`
	Machine  map[string]string    `json:"machine"`
	Rows     []*Row               `json:"rows"`
	Stages   []StageRow           `json:"stages,omitempty"`
	Findings []string             `json:"findings,omitempty"`
	Failures []string             `json:"failures,omitempty"`
	Raw      map[string][]float64 `json:"raw"`
}

// StageRow is one stage of the chain, from run --timings.
type StageRow struct {
	Network string `json:"network"`
	Stage   string `json:"stage"`
	Stats   Stats  `json:"stats_ms"`
}

// Add appends row to the table and returns it, to be compared or
// marked.
func (r *Report) Add(row Row) *Row {
	r.Rows = append(r.Rows, &row)
	return &row
}

// Again adds row once more, without its comparison and target, to be
// compared with another row (mini-docker's start against runc, then
// against Docker).
func (r *Report) Again(row *Row) *Row {
	c := *row
	c.Versus, c.Ratio, c.Target, c.Status = "", 0, "", ""
	return r.Add(c)
}

// Sample records samples under key and returns a row for them.
func (r *Report) Sample(bench, subject, unit string, xs []float64) *Row {
	r.Raw[bench+" | "+subject] = xs
	st := Summarize(xs)
	return r.Add(Row{Bench: bench, Subject: subject, Unit: unit, Stats: &st})
}

// Finding adds a sentence to the report's findings.
func (r *Report) Finding(format string, args ...any) {
	r.Findings = append(r.Findings, fmt.Sprintf(format, args...))
}

// Median of a row: its Stats median or its single Value.
func (row *Row) Median() float64 {
	if row.Stats != nil {
		return row.Stats.Median
	}
	return row.Value
}

// Vs sets the comparison and ratio of row against other.
func (row *Row) Vs(other *Row) *Row {
	row.Versus = other.Subject
	if other.Median() > 0 {
		row.Ratio = row.Median() / other.Median()
	}
	return row
}

// AtMost marks the target "ratio ≤ limit" met or not, with the gap.
func (row *Row) AtMost(limit float64, what string) *Row {
	row.Target = fmt.Sprintf("≤ %.3g× %s", limit, what)
	if row.Ratio <= limit {
		row.Status = "met"
	} else {
		gap := row.Median() - limit*row.Median()/row.Ratio
		row.Status = fmt.Sprintf("NOT met: %.2f× (%.1f %s over)", row.Ratio, gap, row.Unit)
	}
	return row
}

// NoSlower judges row, a run timed in rounds alternating with the row it
// is compared with, as no slower than it: ratios are the rounds' own
// ratios (row's median over the other's, each round). Two starts that do
// the same work differ by less than a shared machine's noise, so a
// ratio of medians a hair over 1× says nothing: the row is slower only
// when the 95% confidence interval of the rounds' median ratio lies
// wholly above 1× (order statistics: no assumption about the spread).
func (row *Row) NoSlower(ratios []float64, what string) *Row {
	row.Target = "no slower than " + what + " (95% CI of the per-round ratio reaches ≤ 1×)"
	lo, med, hi := MedianCI(ratios)
	ci := fmt.Sprintf("per-round ratio %.3f×, 95%% CI %.3f–%.3f× over %d rounds", med, lo, hi, len(ratios))
	if lo <= 1 {
		row.Status = "met: " + ci
	} else {
		row.Status = fmt.Sprintf("NOT met: slower: %s (%.1f %s over)", ci, row.Median()-row.Median()/med, row.Unit)
	}
	return row
}

// MedianCI returns the median of xs and a 95% confidence interval for
// it, from the order statistics (the binomial's normal approximation):
// the samples ranked n/2 ∓ 0.98·√n.
func MedianCI(xs []float64) (lo, med, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := float64(len(s))
	j := int(math.Floor(n/2 - 0.98*math.Sqrt(n)))
	k := int(math.Ceil(n/2 + 0.98*math.Sqrt(n)))
	j, k = max(j, 0), min(k, len(s)-1)
	return s[j], quantile(s, 0.5), s[k]
}

func fmtNum(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# mini-docker benchmarks, %s\n\n", r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s; kernel %s; cgroups %s; %s CPUs (%s); %s RAM. ",
		r.Machine["host"], r.Machine["kernel"], r.Machine["cgroup mode"], r.Machine["cpus"], r.Machine["cpu model"], r.Machine["memory"])
	mode := "full"
	if r.Quick {
		mode = "quick (BENCH_QUICK=1)"
	}
	fmt.Fprintf(&b, "Run: %s, took %s. Medians of repeated runs after a warm-up; spread = interquartile range [min–max]. Ratio = median ÷ the compared row's median.\n\n", mode, r.Duration)
	b.WriteString("| Benchmark | Subject | Median | Spread: IQR [min–max] | n | Compared with | Ratio | Target | Status |\n")
	b.WriteString("|---|---|--:|---|--:|---|--:|---|---|\n")
	for _, row := range r.Rows {
		med, spread, n := fmtNum(row.Value)+" "+row.Unit, "", ""
		if row.Stats != nil {
			s := row.Stats
			med = fmtNum(s.Median) + " " + row.Unit
			spread = fmt.Sprintf("%s [%s–%s]", fmtNum(s.Q3-s.Q1), fmtNum(s.Min), fmtNum(s.Max))
			n = fmt.Sprint(s.N)
		}
		if row.Status != "" && strings.HasPrefix(row.Status, "n/a") && row.Stats == nil && row.Value == 0 {
			med = "n/a"
		}
		ratio := ""
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f×", row.Ratio)
		}
		subject := row.Subject
		if row.Note != "" {
			subject += " (" + row.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			row.Bench, esc(subject), med, spread, n, esc(row.Versus), ratio, row.Target, esc(row.Status))
	}
	if len(r.Stages) > 0 {
		b.WriteString("\n## The chain, stage by stage (`mini-docker run --timings`)\n\n")
		b.WriteString("| Network | Stage | Median ms | IQR [min–max] | n |\n|---|---|--:|---|--:|\n")
		for _, s := range r.Stages {
			fmt.Fprintf(&b, "| %s | %s | %s | %s [%s–%s] | %d |\n", s.Network, s.Stage, fmtNum(s.Stats.Median),
				fmtNum(s.Stats.Q3-s.Stats.Q1), fmtNum(s.Stats.Min), fmtNum(s.Stats.Max), s.Stats.N)
		}
	}
	if len(r.Findings) > 0 {
		b.WriteString("\n## Findings\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	if len(r.Failures) > 0 {
		b.WriteString("\n## Failed benchmarks\n\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- %s\n", esc(f))
		}
	}
	b.WriteString("\n## Machine\n\n")
	for _, k := range MachineKeys {
		if v, ok := r.Machine[k]; ok {
			fmt.Fprintf(&b, "- %s: %s\n", k, esc(v))
		}
	}
	return b.String()
}

func esc(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// Write saves the table and the JSON under dir, named by date (with a
// letter after the first of the day), and
// copies the table to latest.md (what the README links).
func (r *Report) Write(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A second run on the same day is 2026-12-04b, then c, and so on: an
	// earlier table of the day is never written over.
	day := filepath.Join(dir, r.Started.Format("2006-01-02"))
	base := day
	for next := 'b'; next <= 'z'; next++ {
		if _, err := os.Stat(base + ".md"); os.IsNotExist(err) {
			break
		}
		base = day + string(next)
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	md := r.Markdown()
	paths := []string{base + ".md", base + ".json", filepath.Join(dir, "latest.md")}
	for i, data := range [][]byte{[]byte(md), append(j, '\n'), []byte(md)} {
		if err := os.WriteFile(paths[i], data, 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// MachineKeys are the machine facts the report lists, in order.
var MachineKeys = []string{"host", "kernel", "cgroup mode", "cpus", "cpu model", "memory", "load at start", "state root fs",
	"mini-docker", "go", "runc", "docker", "containerd", "hyperfine", "skopeo", "umoci", "curl", "docker note"}

// Stats summarizes samples.
type Stats struct {
	N                        int
	Median, Min, Max, Q1, Q3 float64
	Mean, Stddev             float64
}

// Summarize computes the median and spread of xs.
func Summarize(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	st := Stats{N: len(s), Min: s[0], Max: s[len(s)-1], Median: quantile(s, 0.5), Q1: quantile(s, 0.25), Q3: quantile(s, 0.75)}
	for _, x := range s {
		st.Mean += x
	}
	st.Mean /= float64(len(s))
	for _, x := range s {
		st.Stddev += (x - st.Mean) * (x - st.Mean)
	}
	if len(s) > 1 {
		st.Stddev = math.Sqrt(st.Stddev / float64(len(s)-1))
	}
	return st
}

// quantile interpolates linearly in sorted s.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}
