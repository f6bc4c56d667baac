package main

import (
	"bytes"
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

// BenchByHand decomposes a start without relying on --timings: it takes
// the script `run --explain` prints (the toolkit's own commands), and
// times its parts typed by hand: the host setup, the chain cut after
// each tool (each cut ends in `true`), and the teardown. What the full
// `mini-docker run` costs beyond (or saves below) their sum is
// mini-docker's own work (its start-up, image lookup, state files) set
// against the program starts it saves by doing the steps in-process.
func BenchByHand(e *Env, r *report.Report) error {
	const bench = "3 chain by hand (run --explain's script)"
	cmd := exec.Command(e.MD(), "--root", e.Root, "run", "--rm", "--explain", "--network", "none", e.Ref, "true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := proc.RunTimeout(cmd, proc.StartHost, time.Minute); err != nil {
		return fmt.Errorf("run --explain: %v\n%s", err, stderr.String())
	}
	setup, chain, teardown := splitExplain(stderr.String())
	if chain == "" || len(setup) == 0 || len(teardown) == 0 {
		return fmt.Errorf("run --explain printed no chain line:\n%s", stderr.String())
	}
	dir := filepath.Join(e.Tmp, "byhand")
	os.MkdirAll(dir, 0o755)
	setupSh, teardownSh := filepath.Join(dir, "setup.sh"), filepath.Join(dir, "teardown.sh")
	os.WriteFile(setupSh, []byte(strings.Join(setup, "\n")+"\n"), 0o755)
	os.WriteFile(teardownSh, []byte(strings.Join(teardown, "\n")+"\n"), 0o755)
	defer exec.Command("sh", "-c", ". "+teardownSh).Run()

	w, n := e.runs(3, 1), e.runs(20, 5)
	// Host setup, with the teardown before each run (untimed).
	su, err := Hyperfine(e, Cmd{Name: "setup by hand", Shell: ". " + setupSh, Prepare: ". " + teardownSh + " >/dev/null 2>&1; true"}, w, n)
	if err != nil {
		return err
	}
	// The chain, cut after each tool: the set-up is in place now.
	chainRows, err := timeChain(e, r, bench, chain, w, n)
	if err != nil {
		return err
	}
	td, err := Hyperfine(e, Cmd{Name: "teardown by hand", Shell: ". " + teardownSh, Prepare: ". " + teardownSh + " >/dev/null 2>&1; . " + setupSh + " >/dev/null"}, w, n)
	if err != nil {
		return err
	}
	suRow := r.Sample(bench, "host setup by hand (mkdir, /etc files, overlay mount, cgroupctl create)", "ms", su)
	tdRow := r.Sample(bench, "teardown by hand (cgroupctl delete, umount, rm -rf)", "ms", td)
	whole := chainRows[len(chainRows)-1]
	sum := suRow.Median() + whole.Median() + tdRow.Median()
	sumRow := r.Add(report.Row{Bench: bench, Subject: "setup + chain + teardown by hand", Unit: "ms", Value: sum})
	if startNoNet != nil {
		startNoNet2 := *startNoNet
		startNoNet2.Target, startNoNet2.Status, startNoNet2.Bench = "", "", bench
		md := r.Add(startNoNet2).Vs(sumRow)
		if d := startNoNet.Median() - sum; d >= 0 {
			md.Note = fmt.Sprintf("%.1f ms more than by hand: mini-docker's own work", d)
			r.Finding("The same container typed by hand (run --explain's script) takes %.1f ms: setup %.1f + chain %.1f + teardown %.1f; mini-docker run takes %.1f ms, so %.1f ms are mini-docker's own work around the tools.",
				sum, suRow.Median(), whole.Median(), tdRow.Median(), startNoNet.Median(), d)
		} else {
			md.Note = fmt.Sprintf("%.1f ms less than by hand: the same steps without a program per tool", -d)
			r.Finding("The same container typed by hand (run --explain's script, one program per tool) takes %.1f ms: setup %.1f + chain %.1f + teardown %.1f; mini-docker run, doing the same steps through the tools' packages in two programs, takes %.1f ms (%.1f ms less).",
				sum, suRow.Median(), whole.Median(), tdRow.Median(), startNoNet.Median(), -d)
		}
	}
	var steps []string
	for i, row := range chainRows {
		d := row.Median()
		if i > 0 {
			d -= chainRows[i-1].Median()
		}
		name := strings.TrimSuffix(row.Subject, " -- true")
		name = strings.TrimPrefix(strings.TrimPrefix(name, "chain up to "), "the whole chain: unshare … ")
		steps = append(steps, fmt.Sprintf("%s %+.1f", name, d))
	}
	r.Finding("The chain by hand, cut after each tool (ms added by each): %s.", strings.Join(steps, ", "))
	return nil
}

// splitExplain cuts what run --explain printed into the host set-up
// before the chain, the chain line (from unshare), and the teardown.
func splitExplain(out string) (setup []string, chain string, teardown []string) {
	for _, l := range strings.Split(out, "\n") {
		l, ok := strings.CutPrefix(l, "+ ")
		if !ok {
			continue
		}
		switch {
		case chain == "" && strings.Contains(l, "/unshare "):
			chain = l
		case chain == "":
			setup = append(setup, l)
		default:
			teardown = append(teardown, l)
		}
	}
	return setup, chain, teardown
}

// timeChain times the chain line cut after each tool (`unshare ... --
// true`, then `unshare ... -- cgroupctl ... -- true`, ...), w warm-up
// and n timed runs each, and adds a row for each cut.
func timeChain(e *Env, r *report.Report, bench, chain string, w, n int) ([]*report.Row, error) {
	redirects := regexp.MustCompile(`(\s+\d<\S+)+\s*$`)
	redir := redirects.FindString(chain)
	segs := strings.Split(strings.TrimSpace(strings.TrimSuffix(chain, redir)), " -- ")
	var prev *report.Row
	var chainRows []*report.Row
	for k := 1; k < len(segs); k++ {
		line := strings.Join(segs[:k], " -- ") + " -- true" + redir
		subject := "chain up to " + toolOf(segs[k-1]) + " -- true"
		if k == len(segs)-1 {
			line = strings.Join(segs, " -- ") + redir
			subject = "the whole chain: unshare … " + toolOf(segs[k-1]) + " -- true"
		}
		xs, err := Hyperfine(e, Cmd{Name: subject, Shell: line}, w, n)
		if err != nil {
			return nil, err
		}
		row := r.Sample(bench, subject, "ms", xs)
		if prev != nil {
			row.Note = fmt.Sprintf("+%.1f ms", row.Median()-prev.Median())
		}
		prev = row
		chainRows = append(chainRows, row)
	}
	return chainRows, nil
}

// toolOf names the tool a chain segment runs.
func toolOf(seg string) string {
	f := strings.Fields(seg)
	for i, x := range f {
		if strings.HasPrefix(x, "/") {
			name := filepath.Base(x)
			switch x {
			case "/proc/self/fd/3":
				name = "seccompctl (memfd)"
			case "/proc/self/fd/4":
				name = "capctl (memfd)"
			case "/proc/self/fd/5":
				name = "mini-docker __execin (memfd)"
			}
			if i+1 < len(f) && !strings.HasPrefix(f[i+1], "-") && !strings.HasPrefix(f[i+1], "/") && !strings.HasSuffix(name, f[i+1]+" (memfd)") {
				name += " " + f[i+1]
			}
			return name
		}
	}
	return seg
}
