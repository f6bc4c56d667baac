// Package proc runs and measures the processes the bench starts
// (make bench, lessons 09 and 10's numbers): hyperfine's timed runs,
// alternating rounds, commands at once or with a time limit, a
// watchdog that kills by PID only what descends from the bench's own
// commands, a process's RSS and PSS, and Docker's containers and
// containerd's shims found by ID, and what container runs leave
// behind (Snapshot).
package proc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mini-docker/internal/procfs"
	"mini-docker/internal/tick"
)

// Timer times commands with hyperfine: Tmp holds its export, Root is
// the mini-docker state root the commands use, StartInNetns starts a
// command inside the namespace playing the host, Logf says what the
// watchdog killed.
type Timer struct {
	Tmp, Root    string
	StartInNetns func(*exec.Cmd) error
	Logf         func(format string, args ...any)
}

// MemKiB reads a process's RSS (VmRSS) and PSS (smaps_rollup) in KiB.
func MemKiB(pid int) (rss, pss float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			fmt.Sscanf(strings.TrimPrefix(l, "VmRSS:"), "%f", &rss)
		}
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return rss, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Pss:") {
			fmt.Sscanf(strings.TrimPrefix(l, "Pss:"), "%f", &pss)
		}
	}
	return rss, pss, nil
}

// Parallel runs n commands at once (made by mk) and returns the wall
// time, the stdout of those that succeeded, and the errors.
func Parallel(n int, mk func(i int) (*exec.Cmd, func(*exec.Cmd) error)) (time.Duration, []string, []string) {
	return ParallelLimit(n, 30*time.Second, mk)
}

// ParallelLimit is Parallel with each command killed after limit.
func ParallelLimit(n int, limit time.Duration, mk func(i int) (*exec.Cmd, func(*exec.Cmd) error)) (time.Duration, []string, []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var outs, errs []string
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd, run := mk(i)
			// Files, not pipes: a detached container's monitor that kept
			// an inherited pipe open would make Wait hang until it ends.
			out, _ := os.CreateTemp("", "mdb-out-")
			stderr, _ := os.CreateTemp("", "mdb-err-")
			defer os.Remove(out.Name())
			defer os.Remove(stderr.Name())
			cmd.Stdout, cmd.Stderr = out, stderr
			err := RunTimeout(cmd, run, limit)
			out.Close()
			stderr.Close()
			o, _ := os.ReadFile(out.Name())
			se, _ := os.ReadFile(stderr.Name())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(se))))
				return
			}
			outs = append(outs, strings.TrimSpace(string(o)))
		}(i)
	}
	wg.Wait()
	return time.Since(start), outs, errs
}

// ShimMemory returns the RSS and PSS, in MiB, of each containerd shim
// (the parent of a Docker container's first process) of the containers
// dids names.
func ShimMemory(dids []string) (rss, pss []float64) {
	shims := map[int]bool{}
	for _, id := range dids {
		out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if pp := Ppid(pid); pp > 0 {
			shims[pp] = true
		}
	}
	var pids []int
	for p := range shims {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	for _, p := range pids {
		if r1, p1, err := MemKiB(p); err == nil {
			rss, pss = append(rss, r1/1024), append(pss, p1/1024)
		}
	}
	return rss, pss
}

// Ppid reads the parent of pid.
func Ppid(pid int) int {
	st, _ := procfs.ReadStat(pid)
	return st.Ppid
}

// RunTimeout runs cmd (started by start) and, if it has not ended after
// limit, kills it by its PID with SIGKILL (mini-docker forwards SIGTERM
// to the container, which may be gone) and says so.
func RunTimeout(cmd *exec.Cmd, start func(*exec.Cmd) error, limit time.Duration) error {
	if err := start(cmd); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not end within %s: killed (pid %d)", filepath.Base(cmd.Path), limit, cmd.Process.Pid)
	}
}

func StartHost(cmd *exec.Cmd) error { return cmd.Start() }

// DockerIDs resolves names and IDs to the full IDs of the containers
// that exist.
func DockerIDs(refs []string) []string {
	if len(refs) == 0 {
		return nil
	}
	// One call for all: it prints the IDs it found, and fails (ignored)
	// for the ones it did not.
	out, _ := exec.Command("docker", append([]string{"inspect", "--type", "container", "-f", "{{.Id}}"}, refs...)...).Output()
	return strings.Fields(string(out))
}

// DockerStillThere returns the ids Docker still lists.
func DockerStillThere(ids []string) []string {
	out, _ := exec.Command("docker", "ps", "-aq", "--no-trunc").Output()
	all := "\n" + string(out)
	var left []string
	for _, id := range ids {
		if strings.Contains(all, "\n"+id) {
			left = append(left, id)
		}
	}
	return left
}

// ShimsOf returns the PIDs of running containerd-shim-runc-v2 processes
// whose command line names one of ids (the shim's -id flag).
func ShimsOf(ids []string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || !strings.Contains(string(b), "containerd-shim") {
			continue
		}
		args := strings.Split(string(b), "\x00")
		for i, a := range args {
			if a == "-id" && i+1 < len(args) && contains(ids, args[i+1]) {
				var pid int
				fmt.Sscanf(filepath.Base(filepath.Dir(d)), "%d", &pid)
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func contains(ids []string, s string) bool {
	for _, id := range ids {
		if id == s {
			return true
		}
	}
	return false
}

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
func (t Timer) Hyperfine(c Cmd, warmup, runs int) ([]float64, error) {
	out := filepath.Join(t.Tmp, "hyperfine.json")
	args := []string{"--style", "basic", "-i", "--warmup", fmt.Sprint(warmup), "--runs", fmt.Sprint(runs),
		"--export-json", out, "--command-name", c.Name}
	if c.Prepare != "" {
		args = append(args, "--prepare", c.Prepare)
	}
	if c.Shell != "" {
		args = append(args, c.Shell)
	} else {
		args = append(args, "-N", ShellJoin(c.Argv))
	}
	cmd := exec.Command("hyperfine", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+t.Root)
	start := cmd.Start
	if c.InNetns {
		start = func() error { return t.StartInNetns(cmd) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("hyperfine %s: %w", c.Name, err)
	}
	limit := c.Limit
	if limit == 0 {
		limit = 20 * time.Second
	}
	stop := make(chan struct{})
	go watchdog(cmd.Process.Pid, limit, stop, t.Logf)
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

// Interleaved times two commands in alternating rounds (Rounds): a, b,
// then b, a, and so on. Two rows taken one after the other on a shared
// machine compare two different loads: the 1.52x of a user network
// against the default bridge in the 2026-12-03 run was mostly that (the
// same two starts alternated one by one measured 0.94x).
func (t Timer) Interleaved(a, b Cmd, runs, rounds int) (as, bs []float64, err error) {
	out, err := t.Rounds([]Cmd{a, b}, runs, rounds)
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// Rounds times cmds in rounds, each round one warm-up run of each and
// then its share of runs, and returns each command's samples. Each
// round begins with the next command (a b c, b c a, c a b, ...): all
// stand under the same drift of a shared machine's load, and none is
// always the one right behind another (a run leaves the kernel work,
// such as reaping its namespaces or writing back its files, that the
// next one shares the CPUs with).
func (t Timer) Rounds(cmds []Cmd, runs, rounds int) ([][]float64, error) {
	out := make([][]float64, len(cmds))
	for i := 0; i < rounds; i++ {
		n := roundSize(i, runs, rounds)
		for _, j := range roundOrder(i, len(cmds)) {
			ms, err := t.Hyperfine(cmds[j], 1, n)
			if err != nil {
				return nil, err
			}
			out[j] = append(out[j], ms...)
		}
	}
	return out, nil
}

// roundOrder is the order of n commands in round i: from command i mod
// n on, round and round.
func roundOrder(i, n int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = (i + k) % n
	}
	return order
}

// roundSize is the number of runs of round i when Interleaved splits
// runs over rounds.
func roundSize(i, runs, rounds int) int {
	if i < runs%rounds {
		return runs/rounds + 1
	}
	return runs / rounds
}

// RoundRatios are, for each round of Interleaved(a, b, runs, rounds),
// the median of b's runs over the median of a's: how much the ratio of
// the two moves with the load of a shared machine.
func RoundRatios(as, bs []float64, runs, rounds int) []float64 {
	var out []float64
	for i, at := 0, 0; i < rounds; i++ {
		n := roundSize(i, runs, rounds)
		if n == 0 || at+n > len(as) || at+n > len(bs) {
			break
		}
		if ma := median(as[at : at+n]); ma > 0 {
			out = append(out, median(bs[at:at+n])/ma)
		}
		at += n
	}
	return out
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ShellJoin quotes argv for hyperfine's own word splitting.
func ShellJoin(argv []string) string {
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
func watchdog(root int, limit time.Duration, stop chan struct{}, logf func(string, ...any)) {
	first := map[int]time.Time{}
	tick.Until(stop, 250*time.Millisecond, func() bool {
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
		return false
	})
}

// descendants lists the processes below root (from /proc/PID/stat).
func descendants(root int) []int {
	children := map[int][]int{}
	for _, pid := range procfs.PIDs() {
		if pp := Ppid(pid); pp > 0 {
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

// Snapshot counts what container runs make, to show none is left.
type Snapshot map[string][]string

// Snap lists mounts under root (the bench's folder), mini-docker's cgroups,
// links in the real host namespace and in the one playing the host,
// named network namespaces, IP leases and container state folders.
func Snap(root, netns string) Snapshot {
	s := Snapshot{}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], root) {
			s["mounts"] = append(s["mounts"], f[4])
		}
	}
	groups, _ := filepath.Glob("/sys/fs/cgroup/*/mini-docker/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/mini-docker/*")
	for _, d := range append(groups, more...) {
		if isID(filepath.Base(d)) {
			s["cgroups"] = append(s["cgroups"], d)
		}
	}
	for _, ns := range []struct{ key, netns string }{{"host links", ""}, {"links in the bench netns", netns}} {
		args := []string{"-o", "link", "show"}
		if ns.netns != "" {
			args = append([]string{"-n", ns.netns}, args...)
		}
		out, _ := exec.Command("ip", args...).Output()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(l); len(f) > 1 {
				s[ns.key] = append(s[ns.key], strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":"))
			}
		}
	}
	// mini-docker's own namespaces only (md-ID12): test harnesses on the
	// same machine make and remove theirs (mdt-*, ...) at any time.
	named, _ := filepath.Glob("/run/netns/md-*")
	s["netns"] = named
	leases, _ := filepath.Glob(filepath.Join(root, "network", "*", "*"))
	for _, l := range leases {
		if filepath.Base(l) != "lock" {
			s["leases"] = append(s["leases"], l)
		}
	}
	states, _ := filepath.Glob(filepath.Join(root, "containers", "*"))
	for _, st := range states {
		if isID(filepath.Base(st)) {
			s["state dirs"] = append(s["state dirs"], st)
		}
	}
	return s
}

var snapKinds = []string{"mounts", "cgroups", "host links", "links in the bench netns", "netns", "leases", "state dirs"}

// Leaks lists what after has that before had not.
func Leaks(before, after Snapshot) []string {
	var out []string
	for _, k := range snapKinds {
		had := map[string]bool{}
		for _, x := range before[k] {
			had[x] = true
		}
		for _, x := range after[k] {
			if !had[x] {
				out = append(out, k+" "+x)
			}
		}
	}
	return out
}

// Counts says how many of each kind s holds.
func (s Snapshot) Counts() string {
	var p []string
	for _, k := range snapKinds {
		p = append(p, fmt.Sprintf("%s %d", k, len(s[k])))
	}
	return strings.Join(p, ", ")
}

// isID reports whether s is a container ID (64 lower-case hex digits).
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// LeaksAfter is Leaks(before, snap()) polled every 50 ms for up to a
// minute until it is empty: the kernel reaps a container's veth with its
// network namespace in the background (engine.releaseNetwork).
func LeaksAfter(before Snapshot, snap func() Snapshot) []string {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if leak := Leaks(before, snap()); len(leak) == 0 || time.Now().After(deadline) {
			return leak
		}
	}
}

// besideStages are the host stages that run beside the run's own
// thread (engine.runHostSteps's network lane, and the firewall's syncs):
// their time overlaps the others', so "rest" does not subtract it.
var besideStages = map[string]bool{"netns": true, "veth": true, "netconf": true, "lo up": true, "firewall": true}

func ParseStages(stderr io.Reader, add func(string, float64)) (host, chain float64, total bool) {
	seen := map[string]int{}
	inChain := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		m := StageLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		name := m[1]
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, seen[name])
		}
		// Stages before the chain (pull check … netconf) and after
		// it (release) are host-side; the chain's own stages
		// (from namespaces or clone on) are inside "chain total".
		// The network's steps and the firewall's syncs run on threads
		// of their own, beside the others: they are not added.
		switch {
		case m[1] == "chain total":
			chain, total, inChain = v, true, false
		case m[1] == "namespaces" || m[1] == "clone" || (m[1] == "cgroup join" && !inChain):
			// The chain's first stage: clone with --tool-chain,
			// cgroup join in mini-docker-inside.
			inChain = true
		case !inChain && !besideStages[m[1]]:
			host += v
		}
		add(name, v)
	}
	return host, chain, total
}

// StageLine is one line of run --timings: "NAME   12.345 ms".
var StageLine = regexp.MustCompile(`^(\S(?:.*\S)?)\s+([0-9.]+) ms$`)
