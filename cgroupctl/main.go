// Command cgroupctl makes control groups and limits what their processes
// may use, on cgroup v2, v1 and hybrid hosts (lesson 03).
//
//	cgroupctl info
//	cgroupctl create t1 --memory 32m --cpus 0.5 --pids-limit 100
//	cgroupctl exec --name t1 -- hog mem 64m
//	cgroupctl stats t1
//	cgroupctl delete --kill t1
//
// On a hybrid host groups are made in the v1 hierarchies, as Docker and
// runc do. --mode v2 makes them in the host's cgroup2 tree instead, and
// --v2-root DIR in the cgroup2 tree mounted at DIR. Which v2 paths have
// run on a real kernel (not only against a directory laid out like
// cgroupfs) is listed in cgroupctl/README.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
)

const tool = "cgroupctl"

func main() { cli.Main(tool, commands.Run) }

// commands is cgroupctl's top level: its sub-commands, each with the flags
// parse gives it, and its help.
var commands = cli.Dispatcher{
	Tool:    tool,
	Summary: "Make control groups and limit what their processes may use, on cgroup v2, v1 and hybrid hosts.",
	Notes: `Limits (Docker's names and units):
  --memory 100m  --memory-swap 200m|-1  --cpus 0.5  --cpu-shares 512
  --pids-limit 100  --cpuset-cpus 0-1  --devices docker|all
Every command takes --parent NAME[/NAME...] (default mini-docker), --mode auto|v1|v2,
--v2-root DIR and --explain (print every mkdir and write as a shell command).

On a hybrid host the v2 code path (--mode v2) runs for real for groups,
joining, freezing and cgroup.kill; the v2 limit files (memory.max, cpu.max,
pids.max, subtree_control) are tested only against a cgroupfs-shaped
directory: see cgroupctl/README.md.`,
	Examples: []string{
		"cgroupctl info",
		"cgroupctl exec --name t1 --memory 32m -- hog mem 64m",
		"cgroupctl stats t1",
		"cgroupctl delete --kill t1",
	},
	// The shared flags may come before the sub-command too, as in
	// `cgroupctl --explain create t1` or `cgroupctl --mode v2 list`.
	ValueFlags: []string{"mode", "v2-root", "parent"},
	Commands: cli.Actions(tool, []cli.Action[*cmd]{
		{Name: "info", Usage: "info", Summary: "Show the host's cgroup mode (v2, v1 or hybrid), where each controller is mounted, what can be enabled, and this process's cgroups.",
			Examples: []string{"cgroupctl info"}, Run: runInfo},
		{Name: "create", Usage: "create NAME [limits]", Summary: "Make a group under the parent (default mini-docker) with the given limits.",
			Examples: []string{"cgroupctl create t1 --memory 32m --cpus 0.5 --pids-limit 100", "cgroupctl --explain create t1 --memory 32m", "cgroupctl create --parent testdir/cgrouptest container --pids-limit 100"}, Run: runCreate},
		{Name: "set", Usage: "set NAME [limits]", Summary: "Change the limits of an existing group.",
			Examples: []string{"cgroupctl set t1 --cpus 1.5 --memory 64m"}, Run: runSet},
		{Name: "add", Usage: "add NAME PID...", Summary: "Move processes (with all their threads) into a group.",
			Examples: []string{"cgroupctl add t1 4242"}, Run: runAdd},
		{Name: "exec", Usage: "exec [--name NAME] [limits] -- CMD [ARG...]", Summary: "Join a group (making it when limits are given and it does not exist), then exec CMD: the command and all its children live in the group. Works from inside a new PID namespace (it writes 0, \"myself\", to cgroup.procs).",
			Examples: []string{"cgroupctl exec --name t1 --memory 32m -- hog mem 64m", "cgroupctl exec --name t1 -- sh -c 'cat /proc/self/cgroup'"}, Run: runExec},
		{Name: "stats", Usage: "stats NAME [--json]", Summary: "Show memory (current, peak, limit, OOM kills), CPU (usage, throttling), pids and freezer state of a group.",
			Examples: []string{"cgroupctl stats t1", "cgroupctl stats --json t1"}, Run: runStats},
		{Name: "freeze", Usage: "freeze NAME", Summary: "Stop every process of a group where it stands (cgroup.freeze on v2, freezer.state on v1).",
			Examples: []string{"cgroupctl freeze t1"}, Run: runFreeze},
		{Name: "thaw", Usage: "thaw NAME", Summary: "Let the processes of a frozen group run again.",
			Examples: []string{"cgroupctl thaw t1"}, Run: runThaw},
		{Name: "list", Usage: "list", Summary: "List the groups under the parent, with their process count and directories.",
			Examples: []string{"cgroupctl list", "cgroupctl list --parent mini-docker", "cgroupctl list --parent testdir/cgrouptest"}, Run: runList},
		{Name: "delete", Usage: "delete NAME [--kill]", Summary: "Remove a group from every hierarchy (and each level of the parent left empty). A group with live processes is refused unless --kill is given (cgroup.kill on v2).",
			Examples: []string{"cgroupctl delete t1", "cgroupctl delete --kill t1"}, Run: runDelete},
	}, parse),
}

// parse defines the flags command name takes on f, the shared ones and
// its own, and reads them from args.
func parse(name string, f *cli.Flags, args []string) (*cmd, error) {
	x := &cmd{Flags: f}
	x.SetInterspersed(name != "exec") // exec's own flags end at CMD
	x.StringVar(&x.parent, "parent", "mini-docker", "parent group the group lives under, one level or several (a/b/c); \"\" for the root")
	x.StringVar(&x.mode, "mode", "auto", "which tree to use: auto (v2 on a v2 host, v1 on v1 and hybrid hosts, like runc), v1, or v2")
	x.StringVar(&x.v2root, "v2-root", "", "use the cgroup2 tree mounted at this directory (implies --mode v2)")
	switch name {
	case "create", "set":
		x.addLimitFlags()
	case "exec":
		x.addLimitFlags()
		x.StringVar(&x.name, "name", "", "group to join (default: exec-PID)")
	case "stats", "info":
		x.BoolVar(&x.json, "json", false, "print JSON")
	case "delete":
		x.BoolVar(&x.kill, "kill", false, "kill the processes still in the group first")
	}
	return x, x.Parse(args)
}

type cmd struct {
	*cli.Flags
	parent, mode, v2root, name string
	json, kill                 bool
	limits                     map[string]*string // cgroup.LimitFlags' values, by name
	devices                    string
}

// addLimitFlags defines cgroup.LimitFlags and --devices.
func (x *cmd) addLimitFlags() {
	x.limits = map[string]*string{}
	for _, l := range cgroup.LimitFlags {
		x.limits[l.Name] = x.String(l.Name, "", l.Help)
		if l.Bool {
			x.Lookup(l.Name).NoOptDefVal = "true"
		}
	}
	x.StringVar(&x.devices, "devices", "", "device access: docker (deny all, then allow Docker's default devices, as docker run) or all (as --privileged); the v1 devices controller, or an eBPF program attached to the group on v2")
}

// resources turns the limit flags into cgroup.Resources.
func (x *cmd) resources() (cgroup.Resources, error) {
	var r cgroup.Resources
	var err error
	for _, l := range cgroup.LimitFlags {
		if v := *x.limits[l.Name]; v != "" {
			if err := l.Set(&r, v); err != nil {
				return r, err
			}
		}
	}
	if r.Devices, err = cgroup.ParseDevices(x.devices); err != nil {
		return r, err
	}
	return r, nil
}

// host detects the host's cgroups and picks the tree --mode asks for.
func (x *cmd) host() (*cgroup.Host, error) {
	h, err := cgroup.Detect()
	if err != nil {
		return nil, err
	}
	switch {
	case x.v2root != "":
		return h.UseV2(x.v2root)
	case x.mode == "v2":
		return h.UseV2("")
	case x.mode == "v1":
		return h.UseV1()
	case x.mode == "auto":
		return h, nil
	}
	return nil, cli.Usagef(tool+" "+x.Name(), "--mode %q: use auto, v1 or v2", x.mode)
}

// group opens an existing group named by the one argument.
func (x *cmd) group() (*cgroup.Group, error) {
	if x.NArg() != 1 {
		return nil, cli.Usagef(tool+" "+x.Name(), "expected one group name, got %d argument(s)", x.NArg())
	}
	h, err := x.host()
	if err != nil {
		return nil, err
	}
	return cgroup.Open(h, x.parent, x.Arg(0))
}

func runInfo(x *cmd) error {
	h, err := x.host()
	if err != nil {
		return err
	}
	return x.print(h, describe(h))
}

func runCreate(x *cmd) error {
	if x.NArg() != 1 {
		return cli.Usagef(tool+" create", "expected one group name, got %d argument(s)", x.NArg())
	}
	r, err := x.resources()
	if err != nil {
		return cli.WithHint(err, "see 'cgroupctl create --help'")
	}
	h, err := x.host()
	if err != nil {
		return err
	}
	g, _, err := cgroup.Create(h, x.parent, x.Arg(0), r, x.Explainer())
	if err != nil {
		return err
	}
	fmt.Println(strings.Join(g.Dirs(), "\n"))
	return nil
}

func runSet(x *cmd) error {
	r, err := x.resources()
	if err != nil {
		return cli.WithHint(err, "see 'cgroupctl set --help'")
	}
	if r.IsZero() {
		return cli.Usagef(tool+" set", "no limit given")
	}
	g, err := x.group()
	if err != nil {
		return err
	}
	return g.Set(r, x.Explainer())
}

func runAdd(x *cmd) error {
	if x.NArg() < 2 {
		return cli.Usagef(tool+" add", "expected a group name and at least one PID")
	}
	var pids []int
	for _, a := range x.Args()[1:] {
		p, err := strconv.Atoi(a)
		if err != nil || p <= 0 {
			return cli.Usagef(tool+" add", "%q is not a PID", a)
		}
		pids = append(pids, p)
	}
	h, err := x.host()
	if err != nil {
		return err
	}
	g, err := cgroup.Open(h, x.parent, x.Arg(0))
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := g.Join(p, x.Explainer()); err != nil {
			return err
		}
	}
	return nil
}

// runExec joins the group, then becomes CMD. The group is joined by
// writing 0 ("the writing process") so it works from inside a new PID
// namespace, where os.Getpid() is 1 and means nothing to the host.
func runExec(x *cmd) error {
	argv := x.Args()
	if len(argv) == 0 {
		return cli.Usagef(tool+" exec", "no command given")
	}
	r, err := x.resources()
	if err != nil {
		return cli.WithHint(err, "see 'cgroupctl exec --help'")
	}
	// Find CMD before making anything, so a typo leaves no group behind.
	if _, err := cli.LookPath(argv[0], os.Environ()); err != nil {
		return err
	}
	h, err := x.host()
	if err != nil {
		return err
	}
	name := x.name
	if name == "" {
		name = fmt.Sprintf("exec-%d", os.Getpid())
	}
	ex := x.Explainer()
	g, err := cgroup.Open(h, x.parent, name)
	switch {
	case errors.Is(err, cgroup.ErrNotFound) && (!r.IsZero() || x.name == ""):
		var undo func() error
		if g, undo, err = cgroup.Create(h, x.parent, name, r, ex); err != nil {
			return err
		}
		if err := g.Join(0, ex); err != nil {
			undo()
			return err
		}
	case err != nil:
		return cli.WithHint(err, "create it first, or give limits to exec so it makes it")
	default:
		if !r.IsZero() {
			if err := g.Set(r, ex); err != nil {
				return err
			}
		}
		if err := g.Join(0, ex); err != nil {
			return err
		}
	}
	ex.Argv(argv...)
	return cli.Exec(argv, os.Environ())
}

func runStats(x *cmd) error {
	g, err := x.group()
	if err != nil {
		return err
	}
	s, err := g.Stats()
	if err != nil {
		return err
	}
	return x.print(s, statsLines(s))
}

func runFreeze(x *cmd) error {
	g, err := x.group()
	if err != nil {
		return err
	}
	return g.Freeze(x.Explainer())
}

func runThaw(x *cmd) error {
	g, err := x.group()
	if err != nil {
		return err
	}
	return g.Thaw(x.Explainer())
}

func runList(x *cmd) error {
	h, err := x.host()
	if err != nil {
		return err
	}
	names, err := cgroup.List(h, x.parent)
	if err != nil {
		return err
	}
	fmt.Printf("%-20s %-6s %s\n", "NAME", "PROCS", "DIRECTORIES")
	for _, n := range names {
		g, err := cgroup.New(h, x.parent, n)
		if err != nil {
			continue // a directory cgroupctl would not have made
		}
		procs, _ := g.Procs()
		fmt.Printf("%-20s %-6d %s\n", n, len(procs), strings.Join(g.Dirs(), " "))
	}
	return nil
}

func runDelete(x *cmd) error {
	g, err := x.group()
	if err != nil {
		return err
	}
	if err := g.Delete(x.kill, x.Explainer()); err != nil {
		if !x.kill && !errors.Is(err, cgroup.ErrNotFound) {
			return cli.WithHint(err, "'cgroupctl delete --kill "+g.Name+"' kills them first")
		}
		return err
	}
	return nil
}

// print is what info and stats print: v as indented JSON with --json,
// else lines, its text for people.
func (x *cmd) print(v any, lines []string) error {
	if !x.json {
		for _, l := range lines {
			fmt.Println(l)
		}
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// describe returns the lines `cgroupctl info` prints.
func describe(h *cgroup.Host) []string {
	var l []string
	switch h.Mode {
	case cgroup.V2:
		l = append(l, "mode: v2 (unified hierarchy only)")
	case cgroup.V1:
		l = append(l, "mode: v1 (one hierarchy per controller)")
	case cgroup.Hybrid:
		l = append(l, "mode: hybrid (v1 hierarchies hold the controllers, plus a cgroup2 tree)")
	}
	if h.V2Root != "" {
		av := strings.Join(h.V2Available, " ")
		if av == "" {
			av = "none"
		}
		l = append(l, fmt.Sprintf("cgroup2 tree: %s (controllers it can enable: %s)", h.V2Root, av))
	}
	if len(h.V1) > 0 {
		l = append(l, "v1 hierarchies:")
		for _, c := range slices.Sorted(maps.Keys(h.V1)) {
			l = append(l, fmt.Sprintf("  %-10s %s", c, h.V1[c]))
		}
	}
	switch {
	case h.Driver == cgroup.V2:
		l = append(l, "groups are made in: v2 ("+h.V2Root+")")
	default:
		l = append(l, "groups are made in: v1 (like runc and Docker on this host)")
	}
	l = append(l, "this process:")
	for _, k := range slices.Sorted(maps.Keys(h.Self)) {
		name := k
		if name == "" {
			name = "(v2)"
		}
		l = append(l, fmt.Sprintf("  %-14s %s", name, h.Self[k]))
	}
	return l
}

// statsLines formats s for people (cgroupctl stats).
func statsLines(s *cgroup.Stats) []string {
	l := []string{fmt.Sprintf("cgroup:   %s (%s)", s.Name, s.Mode)}
	state := "running"
	if s.Frozen {
		state = "frozen"
	}
	l = append(l, fmt.Sprintf("procs:    %d (%s)", len(s.Procs), state))
	if m := s.Memory; m != nil {
		l = append(l, fmt.Sprintf("memory:   %s used, %s peak, limit %s", size(int64(m.Current)), size(int64(m.Peak)), size(m.Limit)),
			fmt.Sprintf("oom:      %d hit(s) of the limit, %d OOM kill(s)", m.LimitHits, m.OOMKills))
	}
	if c := s.CPU; c != nil {
		lim := "unlimited"
		if c.QuotaUsec >= 0 && c.PeriodUsec > 0 {
			lim = fmt.Sprintf("%.2f CPUs (%dus per %dus)", float64(c.QuotaUsec)/float64(c.PeriodUsec), c.QuotaUsec, c.PeriodUsec)
		}
		l = append(l, fmt.Sprintf("cpu:      %.3fs used, limit %s, throttled %d of %d periods (%.3fs)",
			float64(c.UsageUsec)/1e6, lim, c.Throttled, c.Periods, float64(c.ThrottledUsec)/1e6))
	}
	if p := s.Pids; p != nil {
		max := "unlimited"
		if p.Max >= 0 {
			max = strconv.FormatInt(p.Max, 10)
		}
		l = append(l, fmt.Sprintf("pids:     %d of %s, %d fork(s) refused", p.Current, max, p.Refused))
	}
	return l
}

// size prints bytes the way Docker's units do (binary units).
func size(b int64) string {
	if b < 0 {
		return "unlimited"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(b), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", b)
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}
