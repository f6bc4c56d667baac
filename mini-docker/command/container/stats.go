package container

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/go-units"
	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	state "mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/formatter"
)

// defaultStatsTable is docker stats's table.
const defaultStatsTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

var statsHeader = formatter.SubHeaderContext{
	"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

var statsSpec = command.Spec{
	Name: "stats", Usage: "[OPTIONS] [CONTAINER...]",
	Summary:  "Display a live stream of containers' resource usage, read from their cgroup files.",
	Examples: []string{"mini-docker stats --no-stream", "mini-docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' demo"},
}

// Stats is `mini-docker stats [CONTAINER...]`: each container's CPU,
// memory and pids from its cgroup's files (what `cgroupctl stats` reads),
// network bytes from its network namespace's /proc/PID/net/dev, block
// I/O from the blkio (v1) or io (v2) files; redrawn every second until
// interrupted, or once with --no-stream.
func Stats(root string, args []string) error {
	f := statsSpec.Flags()
	all := f.BoolP("all", "a", false, "show all containers (default shows just running)")
	noStream := f.Bool("no-stream", false, "disable streaming stats and only pull the first result")
	noTrunc := f.Bool("no-trunc", false, "do not truncate output")
	format := command.FormatFlag(f)
	e, err := statsSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	fm := formatter.Pick(*format, false, defaultStatsTable)
	h, err := cgroup.Detect()
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	prev := map[string]sample{}
	for first := true; ; first = false {
		cs, err := statsTargets(e, f.Args(), *all)
		if err != nil {
			return err
		}
		if first {
			// CPU % is a rate: two samples, as the daemon's first answer has.
			for _, ct := range cs {
				prev[ct.ID] = read(h, ct)
			}
			time.Sleep(time.Second)
		}
		var rows []any
		for _, ct := range cs {
			cur := read(h, ct)
			rows = append(rows, &statsContext{ref: refOf(ct, f.Args()), ct: ct, trunc: !*noTrunc, s: cur, prev: prev[ct.ID]})
			prev[ct.ID] = cur
		}
		if !*noStream {
			fmt.Print("\033[2J\033[H") // clear the screen and go home, as docker stats does
		}
		if err := formatter.Write(os.Stdout, fm, statsHeader, rows); err != nil {
			return command.TemplateError(err, "template parsing error", "template parsing error")
		}
		if *noStream {
			return nil
		}
		select {
		case <-stop:
			return nil
		case <-time.After(time.Second):
		}
	}
}

// statsTargets are the named containers (each must exist), or every
// running one (every one with -a).
func statsTargets(e *engine.Engine, refs []string, all bool) ([]*state.Container, error) {
	if len(refs) == 0 {
		cs, err := e.List()
		if err != nil {
			return nil, err
		}
		var out []*state.Container
		for _, ct := range cs {
			if all || ct.State.Running {
				out = append(out, ct)
			}
		}
		return out, nil
	}
	var out []*state.Container
	for _, r := range refs {
		ct, err := e.Find(r)
		if err != nil {
			return nil, command.NotFound(err)
		}
		out = append(out, ct)
	}
	return out, nil
}

// refOf is the name the user gave for ct, or its short ID.
func refOf(ct *state.Container, refs []string) string {
	for _, r := range refs {
		if strings.HasPrefix(ct.ID, r) || strings.TrimPrefix(ct.Name, "/") == strings.TrimPrefix(r, "/") {
			return r
		}
	}
	return state.ShortID(ct.ID)
}

// sample is one reading of a container's counters.
type sample struct {
	at                  time.Time
	cpuUsec, systemUsec uint64
	mem, memLimit       int64
	pids                uint64
	rx, tx, read, write uint64
}

// read takes a sample; a stopped container's is all zeros, as Docker's.
func read(h *cgroup.Host, ct *state.Container) sample {
	s := sample{at: time.Now(), systemUsec: systemUsec()}
	if !ct.State.Running {
		return s
	}
	g, err := cgroup.Open(h, engine.CgroupParent, ct.Runtime.Cgroup)
	if err != nil {
		return s
	}
	st, err := g.Stats()
	if err != nil {
		return s
	}
	if st.CPU != nil {
		s.cpuUsec = st.CPU.UsageUsec
	}
	if st.Memory != nil {
		s.mem, s.memLimit = int64(usageNoCache(g.Paths(), st.Memory.Current)), st.Memory.Limit
	}
	if s.memLimit <= 0 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			s.memLimit = int64(si.Totalram) * int64(si.Unit) // no limit: the host's memory, as Docker shows
		}
	}
	if st.Pids != nil {
		s.pids = st.Pids.Current
	} else {
		s.pids = uint64(len(st.Procs))
	}
	s.rx, s.tx = netBytes(ct.State.Pid)
	s.read, s.write = blockBytes(g.Paths())
	return s
}

// usageNoCache is docker stats' MEM USAGE: the group's usage less the
// page cache the kernel drops first (docker's CLI,
// calculateMemUsageUnixNoCache: memory.stat's total_inactive_file on v1,
// inactive_file on v2).
func usageNoCache(paths map[string]string, usage uint64) uint64 {
	file, key := filepath.Join(paths["memory"], "memory.stat"), "total_inactive_file"
	if d, ok := paths[""]; ok {
		file, key = filepath.Join(d, "memory.stat"), "inactive_file"
	}
	b, _ := os.ReadFile(file)
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok && k == key {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil && n < usage {
				return usage - n
			}
		}
	}
	return usage
}

// systemUsec is the host's CPU time so far (/proc/stat's first line, all
// CPUs), the denominator of Docker's CPU %.
func systemUsec() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	var ticks uint64
	for _, v := range strings.Fields(sc.Text())[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return ticks * 1e6 / 100 // USER_HZ is 100 on Linux
}

// netBytes sums received and sent bytes over the interfaces of pid's
// network namespace but lo (/proc/PID/net/dev).
func netBytes(pid int) (rx, tx uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n")[2:] {
		name, rest, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 9 {
			r, _ := strconv.ParseUint(f[0], 10, 64)
			t, _ := strconv.ParseUint(f[8], 10, 64)
			rx, tx = rx+r, tx+t
		}
	}
	return rx, tx
}

// blockBytes reads the bytes read and written by the group: v2's io.stat
// (rbytes=, wbytes= per device), v1's blkio.throttle.io_service_bytes
// ("MAJ:MIN Read N").
func blockBytes(paths map[string]string) (r, w uint64) {
	if d, ok := paths[""]; ok {
		b, _ := os.ReadFile(filepath.Join(d, "io.stat"))
		for _, f := range strings.Fields(string(b)) {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				r += n
			case "wbytes":
				w += n
			}
		}
		return r, w
	}
	b, _ := os.ReadFile(filepath.Join(paths["blkio"], "blkio.throttle.io_service_bytes"))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 {
			n, _ := strconv.ParseUint(f[2], 10, 64)
			switch f[1] {
			case "Read":
				r += n
			case "Write":
				w += n
			}
		}
	}
	return r, w
}

// statsContext is one row of docker stats.
type statsContext struct {
	ref     string
	ct      *state.Container
	trunc   bool
	s, prev sample
}

func (c *statsContext) MarshalJSON() ([]byte, error) { return formatter.MarshalJSON(c) }

func (c *statsContext) Container() string { return c.ref }
func (c *statsContext) Name() string      { return strings.TrimPrefix(c.ct.Name, "/") }
func (c *statsContext) ID() string {
	if c.trunc {
		return state.ShortID(c.ct.ID)
	}
	return c.ct.ID
}

// CPUPerc is the container's share of the host's CPU time since the last
// sample, times the number of CPUs (Docker's calculateCPUPercentUnix).
func (c *statsContext) CPUPerc() string {
	cpu := float64(c.s.cpuUsec) - float64(c.prev.cpuUsec)
	sys := float64(c.s.systemUsec) - float64(c.prev.systemUsec)
	p := 0.0
	if cpu > 0 && sys > 0 {
		p = cpu / sys * float64(onlineCPUs()) * 100
	}
	return fmt.Sprintf("%.2f%%", p)
}

func (c *statsContext) MemUsage() string {
	return units.BytesSize(float64(c.s.mem)) + " / " + units.BytesSize(float64(c.s.memLimit))
}

func (c *statsContext) MemPerc() string {
	p := 0.0
	if c.s.memLimit > 0 {
		p = float64(c.s.mem) / float64(c.s.memLimit) * 100
	}
	return fmt.Sprintf("%.2f%%", p)
}

func (c *statsContext) NetIO() string {
	return units.HumanSizeWithPrecision(float64(c.s.rx), 3) + " / " + units.HumanSizeWithPrecision(float64(c.s.tx), 3)
}

func (c *statsContext) BlockIO() string {
	return units.HumanSizeWithPrecision(float64(c.s.read), 3) + " / " + units.HumanSizeWithPrecision(float64(c.s.write), 3)
}

func (c *statsContext) PIDs() string { return strconv.FormatUint(c.s.pids, 10) }

func onlineCPUs() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return set.Count()
	}
	return 1
}

// Usage is one reading of a container's counters, for the Engine API's
// stats endpoint (mini-docker/api/contents): times in microseconds.
type Usage struct {
	At                  time.Time
	CPUUsec, SystemUsec uint64
	Mem, MemLimit       int64
	Pids                uint64
	Rx, Tx, Read, Write uint64
	OnlineCPUs          int
}

// ReadUsage reads ct's counters now, as docker stats does (all zeros
// for a stopped container).
func ReadUsage(h *cgroup.Host, ct *state.Container) Usage {
	s := read(h, ct)
	return Usage{At: s.at, CPUUsec: s.cpuUsec, SystemUsec: s.systemUsec, Mem: s.mem, MemLimit: s.memLimit, Pids: s.pids,
		Rx: s.rx, Tx: s.tx, Read: s.read, Write: s.write, OnlineCPUs: onlineCPUs()}
}
