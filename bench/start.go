package main

import (
	"bytes"
	"context"
	"fmt"
	"mini-docker/bench/proc"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mini-docker/bench/report"
	"mini-docker/vethctl/network"
)

// floorCgroup is the one cgroup the floor makes per start.
const floorCgroup = "/sys/fs/cgroup/pids/mini-docker-bench-floor"

// Start rows kept for the later comparisons (bridge vs no network).
var startNoNet *report.Row

// BenchStart is benchmark 1: start a container from a cached image, no
// network, against runc on the same rootfs and settings, Docker, and
// the floor (namespaces + chroot + one cgroup mkdir, nothing else).
func BenchStart(e *Env, r *report.Report) error {
	const bench = "1 start, no network"
	w, n := e.runs(3, 1), e.runs(60, 5)
	// The three rows the targets compare are timed in rounds, each round
	// begun by the next of them, so that none of them stands alone under
	// the load left by the bench's set-up or by another row.
	defer os.Remove(floorCgroup)
	timed, err := Rounds(e, []Cmd{
		{Name: "mini-docker", Limit: 5 * time.Second, Argv: []string{e.MD(), "--root", e.Root, "run", "--rm", "--network", "none", e.Ref, "true"}},
		{Name: "runc", Argv: append([]string{"runc"}, e.RuncArgs()...)},
		{Name: "floor",
			Shell:   fmt.Sprintf("mkdir %s && /usr/bin/unshare --mount --uts --ipc --pid --fork /usr/sbin/chroot %s true", floorCgroup, e.Rootfs),
			Prepare: fmt.Sprintf("rmdir %s 2>/dev/null || true", floorCgroup)},
	}, n, e.runs(20, 2))
	if err != nil {
		return err
	}
	md, runc, floor := timed[0], timed[1], timed[2]
	// The same run as the printed chain of tools, one program per step.
	mdTools, err := Hyperfine(e, Cmd{Name: "mini-docker --tool-chain", Limit: 5 * time.Second, Argv: []string{e.MD(), "--root", e.Root, "run", "--rm", "--tool-chain", "--network", "none", e.Ref, "true"}}, w, n)
	if err != nil {
		return err
	}
	// The same floor with a new network namespace too (what Docker's
	// --network none gets): how much of a start the netns costs.
	floorNet, err := Hyperfine(e, Cmd{Name: "floor + netns",
		Shell:   fmt.Sprintf("mkdir %s && /usr/bin/unshare --mount --uts --ipc --pid --net --fork /usr/sbin/chroot %s true", floorCgroup, e.Rootfs),
		Prepare: fmt.Sprintf("rmdir %s 2>/dev/null || true", floorCgroup)}, w, n)
	if err != nil {
		return err
	}
	mdRow := r.Sample(bench, "mini-docker run --rm --network none debian true", "ms", md)
	runcRow := r.Sample(bench, "runc run (same rootfs, namespaces, caps, seccomp)", "ms", runc)
	floorRow := r.Sample(bench, "floor: mkdir cgroup + unshare -muip --fork chroot ROOTFS true", "ms", floor)
	floorNetRow := r.Sample(bench, "floor + a new network namespace (unshare --net too)", "ms", floorNet)
	floorNetRow.Vs(floorRow)
	mdRow.Note = fmt.Sprintf("timed in %d rounds with runc's and the floor's, each round begun by the next", e.runs(20, 2))
	startNoNet = mdRow
	r.Sample(bench, "mini-docker run --rm --tool-chain --network none debian true (the printed chain: one program per tool)", "ms", mdTools).Vs(mdRow)
	mdRow.Vs(runcRow).AtMost(0.5, "runc run")
	r.Again(mdRow).Vs(floorRow).AtMost(3, "floor")
	runcRow.Vs(floorRow)
	if !e.Docker {
		r.Add(report.Row{Bench: bench, Subject: "docker run --rm --network none debian true", Status: "n/a: " + e.NoDocker})
		return nil
	}
	dn := e.runs(20, 3)
	docker, err := Hyperfine(e, Cmd{Name: "docker", Argv: []string{"docker", "run", "--rm", "--network", "none", e.Ref, "true"}}, w, dn)
	if err != nil {
		return err
	}
	dRow := r.Sample(bench, "docker run --rm --network none debian true", "ms", docker)
	dRow.Vs(floorRow)
	r.Again(mdRow).Vs(dRow)
	return nil
}

// BenchBridge is benchmark 2: the same start with the default (bridge)
// network, inside the namespace playing the host.
func BenchBridge(e *Env, r *report.Report) error {
	const bench = "2 start, bridge"
	n := e.runs(60, 6)
	// A user-defined network: its own bridge and subnet, and the hosts
	// files of its members rewritten at each start and stop (lesson 12).
	if out, err := exec.Command(e.MD(), "--root", e.Root, "network", "create", "mdb-net").CombinedOutput(); err != nil {
		return fmt.Errorf("network create mdb-net: %v %s", err, out)
	}
	// The two are timed in alternating rounds of two runs (the load of a
	// shared machine drifts less within one round): they are compared.
	rounds := e.runs(30, 3)
	md, user, err := Interleaved(e,
		Cmd{Name: "mini-docker bridge", InNetns: true, Limit: 5 * time.Second,
			Argv: []string{e.MD(), "--root", e.Root, "run", "--rm", e.Ref, "true"}},
		Cmd{Name: "mini-docker user network", InNetns: true, Limit: 5 * time.Second,
			Argv: []string{e.MD(), "--root", e.Root, "run", "--rm", "--network", "mdb-net", e.Ref, "true"}},
		n, rounds)
	if err != nil {
		return err
	}
	row := r.Sample(bench, "mini-docker run --rm debian true (bridge, veth, IP lease)", "ms", md)
	if startNoNet != nil {
		row.Vs(startNoNet).AtMost(2, "no-network start")
	}
	// Issue 17: a start on a user network is no slower than on the default
	// bridge. It does the same work and its names besides (tenths of a
	// millisecond, the stages row says), so the rounds' ratios judge it.
	ratios := proc.RoundRatios(md, user, n, rounds)
	userRow := r.Sample(bench, "mini-docker run --rm --network mdb-net debian true (a user network; timed in rounds alternating with the row above)", "ms", user).Vs(row).NoSlower(ratios, "the default bridge")
	rs := report.Summarize(ratios)
	userRow.Note = fmt.Sprintf("ratio per round: median %.2f×, IQR %.2f–%.2f×, [%.2f–%.2f×] over %d rounds", rs.Median, rs.Q1, rs.Q3, rs.Min, rs.Max, rs.N)
	r.Add(report.Row{Bench: bench, Subject: "runc run with a bridge", Status: "n/a: runc has no networking of its own (a CNI plugin's job)"})
	why := "n/a: " + e.NoDocker
	if e.Docker {
		out, _ := exec.Command("docker", "network", "ls", "-q", "--filter", "driver=bridge").Output()
		if len(bytes.TrimSpace(out)) == 0 {
			why = "n/a: this engine has no bridge network (dockerd --bridge=none, scripts/dockerd)"
		} else {
			why = "n/a: not run: Docker's bridge would add veths to the real host's namespace"
		}
	}
	r.Add(report.Row{Bench: bench, Subject: "docker run --rm debian true", Status: why})
	return nil
}

// BenchStages is benchmark 3: each stage of the chain, from --timings,
// over repeated runs with and without a network. What --timings does not
// cover (mini-docker's own start-up, state files, waiting for the
// command, teardown) is the run's wall time minus the stages.
func BenchStages(e *Env, r *report.Report) error {
	n := e.runs(20, 5)
	// A user network's stages too: what it adds to the default bridge's
	// (names: its members' hosts files, at start and at release).
	if exec.Command(e.MD(), "--root", e.Root, "network", "inspect", "mdb-net").Run() != nil {
		if out, err := exec.Command(e.MD(), "--root", e.Root, "network", "create", "mdb-net").CombinedOutput(); err != nil {
			return fmt.Errorf("network create mdb-net: %v %s", err, out)
		}
	}
	for _, net := range []string{"none", "bridge", "mdb-net"} {
		samples := map[string][]float64{}
		var order []string
		add := func(name string, v float64) {
			if _, ok := samples[name]; !ok {
				order = append(order, name)
			}
			samples[name] = append(samples[name], v)
		}
		partial := 0
		for i := 0; i < n+1; i++ {
			argv := []string{e.MD(), "--root", e.Root, "run", "--rm", "--timings", "--network", net, e.Ref, "true"}
			var stderr bytes.Buffer
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stderr = &stderr
			start := proc.StartHost
			if net != "none" {
				start = e.startInNetns
			}
			t := time.Now()
			err := proc.RunTimeout(cmd, start, 5*time.Second)
			wall := ms(time.Since(t))
			proc.Runs["run --timings"]++
			if err != nil {
				proc.Failed["run --timings"]++
				logf("run --timings --network %s: %v\n%s", net, err, stderr.String())
				continue
			}
			if i == 0 {
				logf("run --timings --network %s printed:\n%s", net, stderr.String())
				continue // warm-up
			}
			host, chain, total := proc.ParseStages(&stderr, add)
			add("wall (whole run, timed by the bench)", wall)
			if total {
				add("rest: wall − stages on the run's own thread (Go start-up, state files, waiting; outside --timings; the network steps and the firewall run beside)", wall-host-chain)
			} else {
				partial++
			}
		}
		if len(order) == 0 {
			return fmt.Errorf("run --timings printed no stage lines")
		}
		for _, s := range order {
			r.Raw["3 stages | "+net+" | "+s] = samples[s]
			r.Stages = append(r.Stages, report.StageRow{Network: net, Stage: s, Stats: report.Summarize(samples[s])})
		}
		if partial > 0 {
			r.Finding("run --timings --network %s: %d of %d runs printed no \"chain total\" (the stage watcher lost the container: it exited before being found), so their stages are missing.", net, partial, n)
		}
	}
	explainStages(r)
	e.hops(r)
	return nil
}

// parseStages reads run --timings' stage lines, passing each to add,
// and returns the host-side stages' total, the chain's, and whether
// the chain's total was printed.
// hops counts the programs one start executes (strace, execve only) and
// what starting one Go program costs here, against /usr/bin/true.
func (e *Env) hops(r *report.Report) {
	if _, err := exec.LookPath("strace"); err != nil {
		r.Finding("strace not installed: exec hops not counted")
		return
	}
	count := func(argv ...string) ([]string, error) {
		out := filepath.Join(e.Tmp, "strace.txt")
		args := append([]string{"-f", "-qq", "--seccomp-bpf", "-e", "trace=execve", "-e", "signal=none", "-o", out}, argv...)
		// Bounded: a traced multi-threaded execve can wait for ever in
		// the kernel (runc init stuck in begin_new_exec under strace -f,
		// seen here once); ending strace releases it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "strace", args...)
		cmd.WaitDelay = 10 * time.Second
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("strace %v: %v %s", argv, err, b)
		}
		b, _ := os.ReadFile(out)
		var progs []string
		for _, l := range strings.Split(string(b), "\n") {
			i := strings.Index(l, "execve(\"")
			if i < 0 || strings.Contains(l, "= -1") {
				continue
			}
			p := l[i+len("execve(\""):]
			p = p[:strings.IndexByte(p, '"')]
			switch {
			case strings.HasPrefix(p, "/proc/self/fd/"):
				p = "fd " + strings.TrimPrefix(p, "/proc/self/fd/")
				if a := l[strings.Index(l, "[")+1:]; strings.HasPrefix(a, "\"") {
					p = strings.Trim(a[:strings.IndexAny(a, ",]")], "\"") + " (" + p + ")"
				}
			case p == "/proc/self/exe":
				p = "self re-exec"
			default:
				p = filepath.Base(p)
			}
			progs = append(progs, p)
		}
		return progs, nil
	}
	md, err := count(e.MD(), "--root", e.Root, "run", "--rm", "--network", "none", e.Ref, "true")
	if err != nil {
		r.Finding("exec hops not counted: %v", err)
		return
	}
	runc, rerr := count(append([]string{"runc"}, e.RuncArgs()...)...)
	runcHops := fmt.Sprintf("%d with runc (%s)", len(runc), strings.Join(runc, " → "))
	if rerr != nil {
		runcHops = "runc's not counted (strace of runc run failed or timed out)"
	}
	goStart, err1 := Hyperfine(e, Cmd{Name: "capctl --version", Argv: []string{filepath.Join(e.Opt.Bin, "capctl"), "--version"}}, 5, e.runs(100, 30))
	trueStart, err2 := Hyperfine(e, Cmd{Name: "true", Argv: []string{"/usr/bin/true"}}, 5, e.runs(100, 30))
	if err1 != nil || err2 != nil {
		return
	}
	g, t := r.Sample("3 stages", "one Go tool start (capctl --version)", "ms", goStart), r.Sample("3 stages", "one C program start (/usr/bin/true)", "ms", trueStart)
	g.Vs(t)
	goExecs := 0
	for _, p := range md {
		if p != "true" {
			goExecs++
		}
	}
	r.Finding("One start executes %d programs with mini-docker (%s) vs %s. A Go program's start here costs %.2f ms (capctl --version) vs %.2f ms for /usr/bin/true, so the %d Go program starts of one run cost about %.0f ms before any of them does its work.",
		len(md), strings.Join(md, " → "), runcHops, g.Median(), t.Median(), goExecs, float64(goExecs)*g.Median())
}

// explainStages names the slowest stages in the findings.
func explainStages(r *report.Report) {
	userOnly(r)
	for _, net := range []string{"none", "bridge", "mdb-net"} {
		var st []report.StageRow
		for _, s := range r.Stages {
			if s.Network == net && s.Stage != "chain total" && !strings.HasPrefix(s.Stage, "wall") && !strings.HasPrefix(s.Stage, "rest") {
				st = append(st, s)
			}
		}
		sort.Slice(st, func(i, j int) bool { return st[i].Stats.Median > st[j].Stats.Median })
		var top []string
		for i := 0; i < len(st) && i < 3; i++ {
			top = append(top, fmt.Sprintf("%s %.1f ms", st[i].Stage, st[i].Stats.Median))
		}
		if len(top) > 0 {
			r.Finding("Slowest stages (--network %s, medians): %s.", net, strings.Join(top, ", "))
		}
	}
}

// userOnly names, in the findings, the stages a start on a user network
// has and one on the default bridge has not: what makes the two differ.
func userOnly(r *report.Report) {
	bridge := map[string]bool{}
	for _, s := range r.Stages {
		if s.Network == "bridge" {
			bridge[s.Stage] = true
		}
	}
	var extra []string
	for _, s := range r.Stages {
		if s.Network == "mdb-net" && !bridge[s.Stage] {
			extra = append(extra, fmt.Sprintf("%s %.2f ms", s.Stage, s.Stats.Median))
		}
	}
	if len(extra) > 0 {
		r.Finding("Stages a start on a user network adds to one on the default bridge (medians): %s.", strings.Join(extra, ", "))
	}
}

// RunInNetns runs cmd with the namespace playing the host as its
// network namespace: it is forked from a thread that joined it, and
// the thread goes back to the host's namespace afterwards.
func (e *Env) RunInNetns(cmd *exec.Cmd) error {
	if err := e.startInNetns(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

func (e *Env) startInNetns(cmd *exec.Cmd) error {
	return network.Named(e.Netns).Do(cmd.Start)
}
