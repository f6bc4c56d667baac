package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mini-docker/bench/proc"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"mini-docker/bench/report"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Snap lists what container runs leave in e (proc.Snap).
func (e *Env) Snap() proc.Snapshot { return proc.Snap(e.Root, e.Netns) }

// BenchScale is benchmark 6: 50 detached containers started at once
// (default network, inside the namespace playing the host); the wall
// time, how many succeeded, and the memory of each one's monitor, vs
// containerd's shim per Docker container.
func BenchScale(e *Env, r *report.Report) error {
	const bench = "6 scale: 50 parallel run -d"
	const n = 50
	before := e.Snap()
	wall, ids, errs := proc.Parallel(n, func(i int) (*exec.Cmd, func(*exec.Cmd) error) {
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
	rm := time.Since(t)
	rmRow := r.Add(report.Row{Bench: bench, Subject: "mini-docker rm -f of the 50", Unit: "ms", Value: ms(rm)})
	leak := proc.LeaksAfter(before, e.Snap)
	rmRow.Note = fmt.Sprintf("%d objects left (checked until %.0f ms after rm -f returned)", len(leak), ms(time.Since(t)-rm))
	r.Finding("%s: removed its %d mini-docker containers (rm -f); %d of their objects left (mounts, cgroups, links, netns, leases, state folders counted before and after; veths polled until the kernel reaped them, at most a minute).", bench, len(ids), len(leak))
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
		r.Add(report.Row{Bench: bench, Subject: "docker run -d (50 proc.Parallel) and containerd-shim memory", Status: "n/a: " + e.NoDocker})
		return nil
	}
	dwall, dids, derrs := proc.Parallel(n, func(i int) (*exec.Cmd, func(*exec.Cmd) error) {
		cmd := exec.Command("docker", "run", "-d", "--network", "none", e.Ref, "sleep", "600")
		return cmd, proc.StartHost
	})
	dRow := r.Add(report.Row{Bench: bench, Subject: "docker run -d --network none debian sleep, wall time", Unit: "ms", Value: ms(dwall)})
	row.Vs(dRow)
	row.Note = "Docker's row has no network"
	r.Add(report.Row{Bench: bench, Subject: "docker: started", Unit: "of 50", Value: float64(len(dids))})
	if len(derrs) > 0 {
		r.Finding("docker run -d failures: %d (first: %s)", len(derrs), derrs[0])
	}
	srss, spss := proc.ShimMemory(dids)
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
		if r1, p1, err := proc.MemKiB(st.MiniDocker.MonitorPid); err == nil {
			rss, pss = append(rss, r1/1024), append(pss, p1/1024)
		}
	}
	return rss, pss
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
		err := proc.RunTimeout(cmd, proc.StartHost, 5*time.Second)
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
	leak := proc.Leaks(before, after)
	lr := r.Add(report.Row{Bench: bench, Subject: "objects left after the loop", Unit: "", Value: float64(len(leak)),
		Target: "0", Note: "before: " + before.Counts() + "; after: " + after.Counts()})
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
		left := proc.Leaks(before, e.Snap())
		r.Add(report.Row{Bench: bench, Subject: "objects left after rm -f of every container left", Value: float64(len(left)),
			Target: "0", Status: map[bool]string{true: "met", false: fmt.Sprintf("NOT met: %d left", len(left))}[len(left) == 0]})
	}
	return nil
}
