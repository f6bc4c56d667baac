package main

import (
	"fmt"
	"mini-docker/bench/proc"
	"os/exec"
	"strings"
	"time"

	"mini-docker/bench/report"
)

// BenchBridgeScale is benchmark 6b: 200 detached containers started at
// once on the default bridge (inside the namespace playing the host):
// every start must succeed with an address of its own (the leases are
// taken under one lock by 200 processes), and after one rm -f of all of
// them nothing may be left: no veth, no namespace, no lease. A removed
// container's veth pair goes with its network namespace, which the
// kernel frees in the background, so the check polls with a generous
// deadline and says how long the kernel took.
func BenchBridgeScale(e *Env, r *report.Report) error {
	const bench = "6b scale: 200 parallel run -d on the bridge"
	n := e.runs(200, 50)
	// One start first: the first makes the bridge, which stays (as
	// docker0 does), so it is not counted as left behind.
	if err := e.RunInNetns(exec.Command(e.MD(), "--root", e.Root, "run", "--rm", e.Ref, "true")); err != nil {
		return fmt.Errorf("a first start on the bridge: %v", err)
	}
	before := e.Snap()
	wall, ids, errs := proc.ParallelLimit(n, 2*time.Minute, func(i int) (*exec.Cmd, func(*exec.Cmd) error) {
		cmd := exec.Command(e.MD(), "--root", e.Root, "run", "-d", "--name", fmt.Sprintf("mdb-bscale-%d", i), e.Ref, "sleep", "600")
		return cmd, e.startInNetns
	})
	defer e.removeContainers()
	var started []string
	for _, id := range ids {
		if hex64.MatchString(id) {
			started = append(started, id)
		}
	}
	r.Add(report.Row{Bench: bench, Subject: fmt.Sprintf("mini-docker run -d debian sleep (bridge), %d at once, wall time", n), Unit: "ms", Value: ms(wall)})
	met := func(ok bool, why string) string {
		if ok {
			return "met"
		}
		return "NOT met: " + why
	}
	r.Add(report.Row{Bench: bench, Subject: "mini-docker: started", Unit: fmt.Sprintf("of %d", n), Value: float64(len(started)),
		Target: fmt.Sprintf("%d of %d", n, n), Status: met(len(started) == n, fmt.Sprintf("%d failed", n-len(started)))})
	for i, er := range errs {
		if i < 3 {
			r.Finding("A parallel start on the bridge failed: %s", er)
		}
	}
	addrs, err := bridgeAddrs(e, started)
	if err != nil {
		return err
	}
	r.Add(report.Row{Bench: bench, Subject: "distinct addresses among the started", Unit: fmt.Sprintf("of %d", len(started)), Value: float64(len(addrs)),
		Target: "one each", Status: met(len(addrs) == len(started), fmt.Sprintf("%d shared or missing", len(started)-len(addrs)))})

	t := time.Now()
	e.removeContainers()
	rm := time.Since(t)
	r.Add(report.Row{Bench: bench, Subject: fmt.Sprintf("mini-docker rm -f of the %d", len(started)), Unit: "ms", Value: ms(rm)})
	leak := proc.LeaksAfter(before, e.Snap)
	r.Add(report.Row{Bench: bench, Subject: "objects left after rm -f (veths polled until the kernel reaped them)", Value: float64(len(leak)),
		Target: "0", Status: met(len(leak) == 0, fmt.Sprintf("%d left after a minute", len(leak))),
		Note: fmt.Sprintf("checked until %.0f ms after rm -f returned", ms(time.Since(t)-rm))})
	for i, l := range leak {
		if i < 5 {
			r.Finding("Left behind after rm -f of the %d on the bridge: %s", len(started), l)
		}
	}
	return nil
}

// bridgeAddrs returns the distinct bridge addresses of the containers
// ids, read in one inspect.
func bridgeAddrs(e *Env, ids []string) (map[string]bool, error) {
	addrs := map[string]bool{}
	if len(ids) == 0 {
		return addrs, nil
	}
	out, err := exec.Command(e.MD(), append([]string{"--root", e.Root, "inspect", "-f", "{{.NetworkSettings.IPAddress}}"}, ids...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("inspect the started containers: %v", err)
	}
	for _, a := range strings.Fields(string(out)) {
		addrs[a] = true
	}
	return addrs, nil
}
