package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"mini-docker/bench/report"
)

// The tools' own Go benchmarks (overlay, vethctl, seccompctl, pull) are
// reused as they are: `go test -run ^$ -bench REGEX -count N PKG`, one
// sample per count.

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// GoBench runs the benchmarks matching re in pkg and returns ns/op
// samples by benchmark name (without the GOMAXPROCS suffix), in order.
func GoBench(e *Env, pkg, re string) (map[string][]float64, []string, error) {
	count, benchtime := e.runs(5, 2), "300ms"
	if e.Opt.Quick {
		benchtime = "100ms"
	}
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", re, "-benchtime", benchtime,
		"-count", strconv.Itoa(count), pkg)
	cmd.Dir = repoRoot()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	samples := map[string][]float64{}
	var order []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		if _, ok := samples[m[1]]; !ok {
			order = append(order, m[1])
		}
		samples[m[1]] = append(samples[m[1]], v)
	}
	if err != nil {
		return samples, order, fmt.Errorf("go test -bench %s %s: %v\n%s", re, pkg, err, tailLines(out.String(), 15))
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("go test -bench %s %s: no benchmark ran\n%s", re, pkg, tailLines(out.String(), 15))
	}
	return samples, order, nil
}

// repoRoot is the checkout (the working directory of make bench).
func repoRoot() string {
	d, _ := os.Getwd()
	return d
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func scale(xs []float64, f float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * f
	}
	return out
}

// BenchOverlay is benchmark 5: one overlay mount (and its unmount) over
// 1, 32, 128 and 200 lower layers, with both ways of making it.
func BenchOverlay(e *Env, r *report.Report) error {
	const bench = "5 overlay mount+umount"
	s, order, err := GoBench(e, "./overlay/overlayfs", "^BenchmarkMount$")
	if err != nil {
		return err
	}
	rows := map[string]*report.Row{}
	for _, name := range order {
		// BenchmarkMount/fsconfig/layers=32
		p := strings.Split(name, "/")
		if len(p) != 3 {
			continue
		}
		method, layers := p[1], strings.TrimPrefix(p[2], "layers=")
		row := r.Sample(bench, fmt.Sprintf("%s layers, %s", layers, method), "ms", scale(s[name], 1e-6))
		rows[method+layers] = row
		if one := rows[method+"1"]; one != nil && layers != "1" {
			row.Vs(one)
		}
	}
	for _, l := range []string{"1", "32", "128", "200"} {
		if a, b := rows["fsconfig"+l], rows["mount"+l]; a != nil && b != nil {
			r.Finding("Overlay, %s layers: new mount API (fsconfig) %.2f ms vs mount(2) %.2f ms.", l, a.Median(), b.Median())
		}
	}
	return nil
}

// BenchMicro runs the other tools' package benchmarks as they are.
func BenchMicro(e *Env, r *report.Report) error {
	var errs []string
	for _, b := range []struct{ pkg, re, what string }{
		{"./vethctl/network", ".", "vethctl"},
		{"./vethctl/ipam", ".", "vethctl"},
		{"./seccompctl/seccomp", ".", "seccompctl"},
		{"./pull/image", "Gunzip|Warm", "pull"},
	} {
		if _, err := os.Stat(b.pkg); err != nil {
			continue
		}
		s, order, err := GoBench(e, b.pkg, b.re)
		for _, name := range order {
			xs, unit := s[name], "µs"
			if report.Summarize(xs).Median > 1e6 {
				xs, unit = scale(xs, 1e-6), "ms"
			} else {
				xs = scale(xs, 1e-3)
			}
			r.Sample("micro ("+b.what+")", strings.TrimPrefix(name, "Benchmark"), unit, xs)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
