package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cmd is one command hyperfine times.
type Cmd struct {
	Name    string
	Argv    []string // run without a shell (hyperfine -N)...
	Shell   string   // ...or through sh -c (hyperfine subtracts the shell's own start-up)
	Prepare string   // run through sh -c before every timed run, untimed
	InNetns bool     // run inside the namespace playing the host
	// Limit bounds one run: a run still going after it is killed (by
	// PID) and counted as failed (default 20 s).
	Limit time.Duration
}

// Failed and Runs count, by command name, the runs that failed or hung
// and all timed runs.
var Failed, Runs = map[string]int{}, map[string]int{}

// Hyperfine times c: warm-up runs, then runs timed runs; it returns the
// samples in milliseconds. A run that exits non-zero fails the
// benchmark (hyperfine checks every exit code).
func Hyperfine(e *Env, c Cmd, warmup, runs int) ([]float64, error) {
	out := filepath.Join(e.Tmp, "hyperfine.json")
	args := []string{"--style", "basic", "-i", "--warmup", fmt.Sprint(warmup), "--runs", fmt.Sprint(runs),
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
	start := cmd.Start
	if c.InNetns {
		start = func() error { return e.startInNetns(cmd) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("hyperfine %s: %w", c.Name, err)
	}
	limit := c.Limit
	if limit == 0 {
		limit = 20 * time.Second
	}
	stop := make(chan struct{})
	go watchdog(cmd.Process.Pid, limit, stop)
	err := cmd.Wait()
	close(stop)
	if err != nil {
		return nil, fmt.Errorf("hyperfine %s: %w", c.Name, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res struct {
		Results []struct {
			Times     []float64 `json:"times"`
			ExitCodes []int     `json:"exit_codes"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Results) != 1 {
		return nil, fmt.Errorf("hyperfine %s: unreadable export: %v", c.Name, err)
	}
	// hyperfine -i goes on after a failed run; its time is dropped here
	// and the failure counted (the table says how many).
	var ms []float64
	codes := res.Results[0].ExitCodes
	for i, t := range res.Results[0].Times {
		Runs[c.Name]++
		if i < len(codes) && codes[i] != 0 {
			Failed[c.Name]++
			continue
		}
		ms = append(ms, t*1000)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("hyperfine %s: every run failed", c.Name)
	}
	return ms, nil
}

// Interleaved times two commands in alternating rounds (a, b, a, b,
// ...; each round one warm-up run and then its share of runs) and returns
// both sets of samples. Two rows taken one after the other on a shared
// machine compare two different loads: the 1.52x of a user network
// against the default bridge in the 2026-12-03 run was mostly that (the
// same two starts alternated one by one measured 0.94x). Alternating
// puts both under the same drift.
func Interleaved(e *Env, a, b Cmd, runs, rounds int) (as, bs []float64, err error) {
	for i := 0; i < rounds; i++ {
		n := runs / rounds
		if i < runs%rounds {
			n++
		}
		for _, c := range []struct {
			cmd Cmd
			out *[]float64
		}{{a, &as}, {b, &bs}} {
			ms, err := Hyperfine(e, c.cmd, 1, n)
			if err != nil {
				return nil, nil, err
			}
			*c.out = append(*c.out, ms...)
		}
	}
	return as, bs, nil
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

// watchdog kills (SIGKILL, by PID) any descendant of root that has been
// running for longer than limit, until stop is closed. Only processes
// this bench started are ever touched: they descend from root.
func watchdog(root int, limit time.Duration, stop chan struct{}) {
	first := map[int]time.Time{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		seen := map[int]bool{}
		for _, pid := range descendants(root) {
			seen[pid] = true
			if _, ok := first[pid]; !ok {
				first[pid] = now
			} else if now.Sub(first[pid]) > limit {
				logf("watchdog: pid %d still running after %s: killed", pid, limit)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		for pid := range first {
			if !seen[pid] {
				delete(first, pid)
			}
		}
	}
}

// descendants lists the processes below root (from /proc/PID/stat).
func descendants(root int) []int {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(pid); pp > 0 {
			children[pp] = append(children[pp], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
