// Command bench is `make bench`: it measures mini-docker side by side with
// the reference runtime (runc), Docker's engine (when one answers) and the
// floor of what the kernel itself costs, on the same machine in the same
// run, and reports ratios. See bench/README.md.
//
// Every benchmark runs repeatedly after a warm-up (hyperfine for commands,
// Go's harness for the tools' package benchmarks); the table shows
// medians and spread, the JSON next to it keeps every sample.
//
// All state lives in temporary roots made here; everything made is
// removed at the end, and only processes this program started are ended.
//
// It belongs to lesson 10 (lessons/10-versus-docker.md): the same comparison, measured.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mini-docker/bench/proc"
	"mini-docker/bench/report"
)

func main() {
	var o Options
	flag.StringVar(&o.Bin, "bin", "bin", "folder holding the built toolkit (make build)")
	flag.StringVar(&o.Out, "out", "bench/results", "folder the results are written to")
	flag.StringVar(&o.Only, "only", "", "comma-separated benchmarks to run (start,before,bridge,stages,byhand,pull,overlay,scale,bridgescale,throughput,exec,stop,pull4,micro); default all")
	flag.StringVar(&o.Before, "before", os.Getenv("BENCH_BEFORE"), "folder holding an earlier build of the toolkit, timed against this one (benchmark \"before\"; also BENCH_BEFORE=DIR)")
	flag.BoolVar(&o.Quick, "quick", os.Getenv("BENCH_QUICK") == "1", "fewer runs (also BENCH_QUICK=1)")
	flag.BoolVar(&o.NoWrite, "no-write", false, "print the table but write no results file")
	flag.DurationVar(&o.Hold, "hold", 0, "after setup, print the environment and wait this long (to explore by hand), then clean up")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(1)
	}
}

// Options are the command line.
type Options struct {
	Bin, Out, Only string
	Before         string
	Quick, NoWrite bool
	Hold           time.Duration
}

func (o Options) want(name string) bool {
	if o.Only == "" {
		return true
	}
	for _, s := range strings.Split(o.Only, ",") {
		if s == name {
			return true
		}
	}
	return false
}

func run(o Options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (run: sudo make bench)")
	}
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return err
	}
	o.Bin = bin
	started := time.Now()
	env, err := Setup(o)
	if env != nil {
		defer env.Close()
	}
	if err != nil {
		return err
	}
	if o.Hold > 0 {
		hold(o.Hold, env)
		return nil
	}
	rep := &report.Report{Started: started.UTC(), Machine: MachineFacts(env), Quick: o.Quick, Raw: map[string][]float64{}}
	steps := []struct {
		name string
		fn   func(*Env, *report.Report) error
	}{
		{"start", BenchStart},
		{"before", BenchBefore},
		{"bridge", BenchBridge},
		{"stages", BenchStages},
		{"byhand", BenchByHand},
		{"pull", BenchPull},
		{"overlay", BenchOverlay},
		{"scale", BenchScale},
		{"bridgescale", BenchBridgeScale},
		{"throughput", BenchThroughput},
		{"exec", BenchExec},
		{"stop", BenchStop},
		{"pull4", BenchPull4},
		{"micro", BenchMicro},
	}
	for _, s := range steps {
		if !o.want(s.name) {
			continue
		}
		t := time.Now()
		logf("== %s", s.name)
		if err := s.fn(env, rep); err != nil {
			// One benchmark failing does not hide the others: the table
			// says what failed and why.
			logf("%s failed: %v", s.name, err)
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", s.name, err))
		}
		logf("   %s took %s", s.name, time.Since(t).Round(time.Second))
	}
	for name, n := range proc.Failed {
		rep.Finding("%s: %d of %d timed runs failed or hung (killed by PID after the time limit); they are left out of the medians.", name, n, proc.Runs[name])
	}
	rep.Duration = time.Since(started).Round(time.Second).String()
	md := rep.Markdown()
	fmt.Print(md)
	if !o.NoWrite {
		paths, err := rep.Write(o.Out)
		if err != nil {
			return err
		}
		for _, p := range paths {
			logf("wrote %s", p)
		}
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d benchmark(s) failed (see the table)", len(rep.Failures))
	}
	return nil
}

// logf prints progress to stderr, so stdout is only the table.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// hold prints env and waits d, or until Ctrl-C, for a look by hand.
func hold(d time.Duration, env *Env) {
	logf("holding for %s (Ctrl-C ends it, cleaning up): ROOT=%s REF=%s NETNS=%s ROOTFS=%s BUNDLE=%s RUNCROOT=%s", d, env.Root, env.Ref, env.Netns, env.Rootfs, env.Bundle, env.RuncRoot)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case <-time.After(d):
	case s := <-stop:
		logf("%s: cleaning up", s)
	}
}
