package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"mini-docker/bench/report"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Snapshot counts what container runs make, to show none is left.
type Snapshot map[string][]string

// Snap lists mounts under the bench's folder, mini-docker's cgroups,
// links in the real host namespace and in the one playing the host,
// named network namespaces, IP leases and container state folders.
func (e *Env) Snap() Snapshot {
	s := Snapshot{}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], e.Root) {
			s["mounts"] = append(s["mounts"], f[4])
		}
	}
	groups, _ := filepath.Glob("/sys/fs/cgroup/*/mini-docker/*")
	more, _ := filepath.Glob("/sys/fs/cgroup/mini-docker/*")
	for _, d := range append(groups, more...) {
		if hex64.MatchString(filepath.Base(d)) {
			s["cgroups"] = append(s["cgroups"], d)
		}
	}
	for _, ns := range []struct{ key, netns string }{{"host links", ""}, {"links in the bench netns", e.Netns}} {
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
	netns, _ := filepath.Glob("/run/netns/md-*")
	s["netns"] = netns
	leases, _ := filepath.Glob(filepath.Join(e.Root, "network", "*", "*"))
	for _, l := range leases {
		if filepath.Base(l) != "lock" {
			s["leases"] = append(s["leases"], l)
		}
	}
	states, _ := filepath.Glob(filepath.Join(e.Root, "containers", "*"))
	for _, st := range states {
		if hex64.MatchString(filepath.Base(st)) {
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

func (s Snapshot) counts() string {
	var p []string
	for _, k := range snapKinds {
		p = append(p, fmt.Sprintf("%s %d", k, len(s[k])))
	}
	return strings.Join(p, ", ")
}

// memKiB reads a process's RSS (VmRSS) and PSS (smaps_rollup) in KiB.
func memKiB(pid int) (rss, pss float64, err error) {
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

// parallel runs n commands at once (made by mk) and returns the wall
// time, the stdout of those that succeeded, and the errors.
func parallel(n int, mk func(i int) (*exec.Cmd, func(*exec.Cmd) error)) (time.Duration, []string, []string) {
	return parallelLimit(n, 30*time.Second, mk)
}

// parallelLimit is parallel with each command killed after limit.
func parallelLimit(n int, limit time.Duration, mk func(i int) (*exec.Cmd, func(*exec.Cmd) error)) (time.Duration, []string, []string) {
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
			err := runTimeout(cmd, run, limit)
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

// BenchScale is benchmark 6: 50 detached containers started at once
// (default network, inside the namespace playing the host); the wall
// time, how many succeeded, and the memory of each one's monitor, vs
// containerd's shim per Docker container.
func BenchScale(e *Env, r *report.Report) error {
	const bench = "6 scale: 50 parallel run -d"
	const n = 50
	before := e.Snap()
	wall, ids, errs := parallel(n, func(i int) (*exec.Cmd, func(*exec.Cmd) error) {
		cmd := exec.Command(e.MD(), "--root", e.Root, "run", "-d", "--name", fmt.Sprintf("mdb-scale-%d", i), e.Ref, "sleep", "600")
		return cmd, e.startInNetns
	})
	defer e.removeContainers()
	ok := 0
	for _, id := range ids {
		if hex64.MatchString(id) {
			ok++
		}
	}
	row := r.Add(report.Row{Bench: bench, Subject: "mini-docker run -d debian sleep (bridge), wall time", Unit: "ms", Value: ms(wall)})
	succ := r.Add(report.Row{Bench: bench, Subject: "mini-docker: started", Unit: "of 50", Value: float64(ok), Target: "50 of 50"})
	if ok == n {
		succ.Status = "met"
	} else {
		succ.Status = fmt.Sprintf("NOT met: %d failed", n-ok)
		for i, er := range errs {
			if i < 3 {
				r.Finding("A parallel start failed: %s", er)
			}
		}
	}
	// A monitor reports the container running before it gives back its
	// start-up memory (shrink): measured once they all wait, as they do
	// for the container's whole life.
	time.Sleep(2 * time.Second)
	rss, pss := monitorMemory(e, ids)
	if len(rss) == 0 {
		return fmt.Errorf("found no monitor process (MonitorPid in state.json)")
	}
	rssRow := r.Sample(bench, "mini-docker monitor RSS, per container", "MiB", rss)
	pssRow := r.Sample(bench, "mini-docker monitor PSS, per container", "MiB", pss)
	rssRow.Target = "< 4 MiB RSS (max)"
	if rssRow.Stats.Max < 4 {
		rssRow.Status = "met"
	} else {
		rssRow.Status = fmt.Sprintf("NOT met: max %.2f MiB", rssRow.Stats.Max)
	}

	// Removing them all, and what is left after.
	t := time.Now()
	e.removeContainers()
	rmRow := r.Add(report.Row{Bench: bench, Subject: "mini-docker rm -f of the 50", Unit: "ms", Value: ms(time.Since(t))})
	leak := Leaks(before, e.Snap())
	rmRow.Note = fmt.Sprintf("%d objects left", len(leak))
	r.Finding("%s: removed its %d mini-docker containers (rm -f); %d of their objects left (mounts, cgroups, links, netns, leases, state folders counted before and after).", bench, len(ids), len(leak))
	for _, l := range leak {
		r.Finding("Left behind after rm -f of the 50: %s", l)
	}

	return scaleDocker(e, r, bench, n, row, rssRow, pssRow)
}

// scaleDocker is benchmark 6's other side: n docker run -d at once
// (without a network), the memory of their containerd shims, and how long
// docker rm -f takes until none of them is left; each row is set against
// mini-docker's.
func scaleDocker(e *Env, r *report.Report, bench string, n int, row, rssRow, pssRow *report.Row) error {
	if !e.Docker {
		r.Add(report.Row{Bench: bench, Subject: "docker run -d (50 parallel) and containerd-shim memory", Status: "n/a: " + e.NoDocker})
		return nil
	}
	dwall, dids, derrs := parallel(n, func(i int) (*exec.Cmd, func(*exec.Cmd) error) {
		cmd := exec.Command("docker", "run", "-d", "--network", "none", e.Ref, "sleep", "600")
		return cmd, startHost
	})
	dRow := r.Add(report.Row{Bench: bench, Subject: "docker run -d --network none debian sleep, wall time", Unit: "ms", Value: ms(dwall)})
	row.Vs(dRow)
	row.Note = "Docker's row has no network"
	r.Add(report.Row{Bench: bench, Subject: "docker: started", Unit: "of 50", Value: float64(len(dids))})
	if len(derrs) > 0 {
		r.Finding("docker run -d failures: %d (first: %s)", len(derrs), derrs[0])
	}
	srss, spss := shimMemory(dids)
	if len(srss) > 0 {
		sr := r.Sample(bench, fmt.Sprintf("containerd-shim-runc-v2 RSS (%d shims for %d containers)", len(srss), len(dids)), "MiB", srss)
		sp := r.Sample(bench, "containerd-shim-runc-v2 PSS", "MiB", spss)
		rssRow.Vs(sr)
		pssRow.Vs(sp)
	}
	// Removing them, and waiting until neither the engine nor a shim
	// has any of them left (docker rm -f returns before that).
	t := time.Now()
	e.dockerRemove(r, bench, dids)
	r.Add(report.Row{Bench: bench, Subject: fmt.Sprintf("docker rm -f of the %d, until no container or shim of theirs is left", len(dids)), Unit: "ms", Value: ms(time.Since(t))})
	return nil
}

// monitorMemory returns the RSS and PSS, in MiB, of the monitor process
// of each container ids names (MonitorPid in its state.json).
func monitorMemory(e *Env, ids []string) (rss, pss []float64) {
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(e.Root, "containers", id, "state.json"))
		if err != nil {
			continue
		}
		var st struct {
			MiniDocker struct{ MonitorPid int }
		}
		if json.Unmarshal(b, &st) != nil || st.MiniDocker.MonitorPid == 0 {
			continue
		}
		if r1, p1, err := memKiB(st.MiniDocker.MonitorPid); err == nil {
			rss, pss = append(rss, r1/1024), append(pss, p1/1024)
		}
	}
	return rss, pss
}

// shimMemory returns the RSS and PSS, in MiB, of each containerd shim
// (the parent of a Docker container's first process) of the containers
// dids names.
func shimMemory(dids []string) (rss, pss []float64) {
	shims := map[int]bool{}
	for _, id := range dids {
		out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if pp := ppid(pid); pp > 0 {
			shims[pp] = true
		}
	}
	var pids []int
	for p := range shims {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	for _, p := range pids {
		if r1, p1, err := memKiB(p); err == nil {
			rss, pss = append(rss, r1/1024), append(pss, p1/1024)
		}
	}
	return rss, pss
}

// ppid reads the parent of pid.
func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchThroughput is benchmark 7: 200 sequential starts with --rm and no
// network: containers per second, and that nothing leaks over the loop.
func BenchThroughput(e *Env, r *report.Report) error {
	const bench = "7 throughput: sequential run --rm --network none true"
	n := e.runs(200, 50)
	before := e.Snap()
	var lat []float64
	failed, failedRun := 0, map[int]bool{}
	var firstErr string
	start := time.Now()
	for i := 0; i < n; i++ {
		t := time.Now()
		cmd := exec.Command(e.MD(), "--root", e.Root, "run", "--rm", "--network", "none", e.Ref, "true")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := runTimeout(cmd, startHost, 5*time.Second)
		lat = append(lat, ms(time.Since(t)))
		if err != nil {
			failedRun[i] = true
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf("%v: %s", err, strings.TrimSpace(tailLines(out.String(), 3)))
			}
		}
	}
	wall := time.Since(start)
	after := e.Snap()
	rate := float64(n) / wall.Seconds()
	r.Add(report.Row{Bench: bench, Subject: fmt.Sprintf("mini-docker, %d runs back to back", n), Unit: "containers/s", Value: rate,
		Note: fmt.Sprintf("%d failed", failed)})
	r.Sample(bench, "mini-docker, latency of each run", "ms", lat)
	if failed > 0 {
		var ok []float64
		sum := 0.0
		for i, l := range lat {
			if !failedRun[i] {
				ok = append(ok, l)
				sum += l
			}
		}
		r.Add(report.Row{Bench: bench, Subject: "mini-docker, the runs that succeeded only", Unit: "containers/s", Value: float64(len(ok)) / (sum / 1000),
			Note: fmt.Sprintf("%d runs", len(ok))})
	}
	leak := Leaks(before, after)
	lr := r.Add(report.Row{Bench: bench, Subject: "objects left after the loop", Unit: "", Value: float64(len(leak)),
		Target: "0", Note: "before: " + before.counts() + "; after: " + after.counts()})
	if len(leak) == 0 && failed == 0 {
		lr.Status = "met"
	} else {
		lr.Status = fmt.Sprintf("NOT met: %d left, %d runs failed", len(leak), failed)
		for i, l := range leak {
			if i < 5 {
				r.Finding("Left behind by the throughput loop: %s", l)
			}
		}
		if firstErr != "" {
			r.Finding("First failed run: %s", firstErr)
		}
		// Runs killed by the bench leave their objects: mini-docker is
		// meant to clean up after such crashes on rm -f.
		e.removeContainers()
		left := Leaks(before, e.Snap())
		r.Add(report.Row{Bench: bench, Subject: "objects left after rm -f of every container left", Value: float64(len(left)),
			Target: "0", Status: map[bool]string{true: "met", false: fmt.Sprintf("NOT met: %d left", len(left))}[len(left) == 0]})
	}
	return nil
}

// runTimeout runs cmd (started by start) and, if it has not ended after
// limit, kills it by its PID with SIGKILL (mini-docker forwards SIGTERM
// to the container, which may be gone) and says so.
func runTimeout(cmd *exec.Cmd, start func(*exec.Cmd) error, limit time.Duration) error {
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

func startHost(cmd *exec.Cmd) error { return cmd.Start() }
