package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Cmd is one command hyperfine times.
type Cmd struct {
	Name    string
	Argv    []string // run without a shell (hyperfine -N)...
	Shell   string   // ...or through sh -c (hyperfine subtracts the shell's own start-up)
	Prepare string   // run through sh -c before every timed run, untimed
	InNetns bool     // run inside the namespace playing the host
}

// Hyperfine times c: warm-up runs, then runs timed runs; it returns the
// samples in milliseconds. A run that exits non-zero fails the
// benchmark (hyperfine checks every exit code).
func Hyperfine(e *Env, c Cmd, warmup, runs int) ([]float64, error) {
	out := filepath.Join(e.Tmp, "hyperfine.json")
	args := []string{"--style", "basic", "--warmup", fmt.Sprint(warmup), "--runs", fmt.Sprint(runs),
		"--export-json", out, "--command-name", c.Name}
	if c.Prepare != "" {
		args = append(args, "--prepare", c.Prepare)
	}
	if c.Shell != "" {
		args = append(args, c.Shell)
	} else {
		args = append(args, "-N", shellJoin(c.Argv))
	}
	cmd := exec.Command("hyperfine", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+e.Root)
	run := cmd.Run
	if c.InNetns {
		run = func() error { return e.RunInNetns(cmd) }
	}
	if err := run(); err != nil {
		return nil, fmt.Errorf("hyperfine %s: %w", c.Name, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res struct {
		Results []struct {
			Times []float64 `json:"times"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Results) != 1 {
		return nil, fmt.Errorf("hyperfine %s: unreadable export: %v", c.Name, err)
	}
	ms := make([]float64, len(res.Results[0].Times))
	for i, t := range res.Results[0].Times {
		ms[i] = t * 1000
	}
	return ms, nil
}

// shellJoin quotes argv for hyperfine's own word splitting.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"\\$`;&|<>()*?[]{}!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

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
