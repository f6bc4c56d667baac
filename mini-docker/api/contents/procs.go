package contents

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/command/container"
	state "mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

// notRunning is dockerd's 409 for a container that must be running.
func notRunning(id string) error {
	//lint:ignore ST1005 Docker's own words, as the docker CLI prints them
	return wire.Conflicting(fmt.Errorf("Container %s is not running", id))
}

// top is GET /containers/{id}/top?ps_args=: the host's ps (ps -ef by
// default) cut to the container's processes, as dockerd and
// `mini-docker top` do, so the PIDs are the host's.
func top(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *state.Container) error {
	if !ct.State.Running {
		return notRunning(ct.ID)
	}
	args := strings.Fields(r.URL.Query().Get("ps_args"))
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.CommandContext(r.Context(), "ps", args...).Output()
	if err != nil {
		return wire.Badf("ps: %v", err)
	}
	pids := map[string]bool{}
	for _, p := range e.Pids(ct) {
		pids[strconv.Itoa(p)] = true
	}
	resp, err := psTable(string(out), pids)
	if err != nil {
		return wire.Bad(err)
	}
	wire.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// psTable reads ps's output as dockerd's parsePSOutput does: the
// header's words are the titles, and each row whose PID column is one of
// pids is split into as many fields, the last (the command) keeping
// its spaces.
func psTable(out string, pids map[string]bool) (mobycontainer.TopResponse, error) {
	resp := mobycontainer.TopResponse{Processes: [][]string{}}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	resp.Titles = strings.Fields(lines[0])
	col := -1
	for i, t := range resp.Titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		//lint:ignore ST1005 Docker's own words
		return resp, fmt.Errorf("Couldn't find PID field in ps output")
	}
	n := len(resp.Titles)
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		// The last column alone may hold spaces: a row with more
		// fields whose PID column is the last is not ps's.
		if len(f) < n || !pids[f[col]] || col == n-1 && len(f) > n {
			continue
		}
		row := append(f[:n-1:n-1], strings.Join(f[n-1:], " "))
		resp.Processes = append(resp.Processes, row)
	}
	return resp, nil
}

// stats is GET /containers/{id}/stats: the counters `mini-docker stats`
// reads (cgroup files, /proc/PID/net/dev), in the API's shape. With
// stream=false, one answer with two samples a second apart (CPU % is a
// rate, and the client computes it from cpu_stats and precpu_stats);
// with one-shot, one sample at once; otherwise one a second until the
// client leaves.
func stats(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *state.Container) error {
	h, err := cgroup.Detect()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	stream := q.Get("stream") == "" || wire.BoolParam(r, "stream")
	oneShot := wire.BoolParam(r, "one-shot")
	if oneShot && stream {
		return wire.Badf("cannot have stream=true and one-shot=true")
	}
	s := wire.NewStream(w)
	wait := func() bool {
		select {
		case <-r.Context().Done():
			return false
		case <-time.After(time.Second):
			return true
		}
	}
	var prev container.Usage
	if !stream && !oneShot {
		if prev = container.ReadUsage(h, ct); !wait() {
			return nil
		}
	}
	for {
		if cur, err := e.Find(ct.ID); err == nil {
			ct = cur
		}
		u := container.ReadUsage(h, ct)
		s.Send(statsResponse(ct, u, prev))
		if prev = u; !stream || !wait() {
			return nil
		}
	}
}

// statsResponse is one sample, with the one before as precpu_stats.
func statsResponse(ct *state.Container, u, prev container.Usage) mobycontainer.StatsResponse {
	cpu := func(u container.Usage) mobycontainer.CPUStats {
		if u.At.IsZero() {
			return mobycontainer.CPUStats{}
		}
		return mobycontainer.CPUStats{CPUUsage: mobycontainer.CPUUsage{TotalUsage: u.CPUUsec * 1000},
			SystemUsage: u.SystemUsec * 1000, OnlineCPUs: uint32(u.OnlineCPUs)}
	}
	resp := mobycontainer.StatsResponse{ID: ct.ID, Name: ct.Name, OSType: "linux", Read: u.At, PreRead: prev.At,
		CPUStats: cpu(u), PreCPUStats: cpu(prev),
		MemoryStats: mobycontainer.MemoryStats{Usage: uint64(u.Mem), Limit: uint64(u.MemLimit), Stats: map[string]uint64{}},
		PidsStats:   mobycontainer.PidsStats{Current: u.Pids},
		BlkioStats: mobycontainer.BlkioStats{IoServiceBytesRecursive: []mobycontainer.BlkioStatEntry{
			{Op: "read", Value: u.Read}, {Op: "write", Value: u.Write}}},
		Networks: map[string]mobycontainer.NetworkStats{"eth0": {RxBytes: u.Rx, TxBytes: u.Tx}},
	}
	return resp
}
