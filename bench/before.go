package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"mini-docker/bench/report"
)

// BenchBefore is "before vs after": the same start as benchmark 1 (run
// --rm --network none, a cached image) by this build and by an earlier
// one (-before DIR, BENCH_BEFORE=DIR: that build's bin/), timed in
// alternating rounds so both stand under the same load. Each build has
// its own state root, pulled by itself from the same registry: an
// earlier build may not read this one's store.
func BenchBefore(e *Env, r *report.Report) error {
	const bench = "1b start, before vs after"
	if e.Opt.Before == "" {
		r.Add(report.Row{Bench: bench, Subject: "an earlier build", Status: "n/a: no -before DIR (BENCH_BEFORE) given"})
		return nil
	}
	bin := filepath.Join(e.Tmp, "bin-before")
	if err := copyTools(e.Opt.Before, bin); err != nil {
		return fmt.Errorf("copy the earlier build: %w", err)
	}
	old, root := filepath.Join(bin, "mini-docker"), filepath.Join(e.Tmp, "root-before")
	if out, err := exec.Command(old, "--root", root, "pull", "-q", e.Ref).CombinedOutput(); err != nil {
		return fmt.Errorf("earlier build's pull: %v\n%s", err, out)
	}
	e.onClose(func() { e.removeContainersOf(old, root) })
	run := func(md, root string) []string {
		return []string{md, "--root", root, "run", "--rm", "--network", "none", e.Ref, "true"}
	}
	after, before, err := Interleaved(e,
		Cmd{Name: "mini-docker (this build)", Limit: 5 * time.Second, Argv: run(e.MD(), e.Root)},
		Cmd{Name: "mini-docker (earlier build)", Limit: 5 * time.Second, Argv: run(old, root)},
		e.runs(100, 20), e.runs(10, 4))
	if err != nil {
		return err
	}
	beforeRow := r.Sample(bench, "earlier build ("+e.Opt.Before+"): run --rm --network none debian true", "ms", before)
	r.Sample(bench, "this build: the same run, in rounds alternating with the row above", "ms", after).Vs(beforeRow).AtMost(1.05, "the earlier build")
	return nil
}
