// Package container holds mini-docker's container commands that print
// what the engine records (ps, logs, stats, top, rename), with Docker's
// flags, --format fields and --filter keys (mini-docker/formatter,
// mini-docker/filters).
package container

import (
	"os"
	"strconv"
	"strings"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	state "mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/formatter"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
)

// psFilters are the --filter keys docker ps accepts that mini-docker knows.
var psFilters = []string{"ancestor", "before", "exited", "health", "id", "label", "name", "network", "since", "status"}

var psSpec = command.Spec{
	Name: "ps", Usage: "[OPTIONS]",
	Summary: "List containers (running ones; -a for all).",
	Examples: []string{"mini-docker ps -a", "mini-docker ps --format '{{.Names}}\\t{{.Status}}'",
		"mini-docker ps -a --filter status=exited -q", "mini-docker ps -l -s"},
}

// Ps is `mini-docker ps`.
func Ps(root string, args []string) error {
	f := psSpec.Flags()
	all := f.BoolP("all", "a", false, "show all containers (default shows just running)")
	quiet := f.BoolP("quiet", "q", false, "only display container IDs")
	noTrunc := f.Bool("no-trunc", false, "don't truncate output")
	size := f.BoolP("size", "s", false, "display total file sizes")
	last := f.IntP("last", "n", -1, "show n last created containers (includes all states)")
	latest := f.BoolP("latest", "l", false, "show the latest created container (includes all states)")
	format := command.FormatFlag(f)
	filterFlags := command.FilterFlag(f, "status, name, label, ancestor, before, since, id, exited, health, network")
	args0, err := psSpec.ParseFilters(f, args, filterFlags)
	if err != nil {
		return cli.Done(err)
	}
	table := formatter.DefaultContainerTable
	if *size {
		table += `\t{{.Size}}`
	}
	fm := formatter.Pick(*format, *quiet, table)
	if err := formatter.Check(fm, &formatter.ContainerContext{C: &state.Container{}}); err != nil {
		return command.TemplateError(err, "failed to parse template", "failed to execute template")
	}
	if *latest {
		*last = 1
	}
	e, err := command.OpenEngine(root, f)
	if err != nil {
		return err
	}
	cs, err := e.List()
	if err != nil {
		return err
	}
	cs, err = filterContainers(root, e, cs, args0, *all || *last > 0)
	if err != nil {
		return err
	}
	if *last > 0 && len(cs) > *last {
		cs = cs[:*last]
	}
	withSize := *size || strings.Contains(string(fm), ".Size")
	var rows []any
	for _, ct := range cs {
		row := &formatter.ContainerContext{C: ct, Trunc: !*noTrunc}
		if withSize {
			row.SizeRw, row.SizeFs = containerSize(ct)
		}
		rows = append(rows, row)
	}
	return command.TemplateError(formatter.Write(os.Stdout, fm, formatter.ContainerHeader, rows),
		"template parsing error", "failed to execute template")
}

// filterContainers keeps the containers the filters pass; without all
// (or a status filter) only running ones.
func filterContainers(root string, e *engine.Engine, cs []*state.Container, a filters.Args, all bool) ([]*state.Container, error) {
	if err := a.Validate(psFilters...); err != nil {
		return nil, cli.WithCode(err, 1)
	}
	for _, s := range a["status"] {
		switch state.Status(s) {
		case state.Created, state.Running, state.Paused, state.Exited, state.Dead, "restarting", "removing":
		default:
			return nil, cli.WithCode(&filters.InvalidFilterError{Filter: "status=" + s}, 1)
		}
		all = true
	}
	exited := map[int]bool{}
	for _, v := range a["exited"] {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, cli.WithCode(err, 1)
		}
		exited[n] = true
	}
	for _, v := range a["health"] {
		if v != "starting" && v != "healthy" && v != "unhealthy" && v != "none" {
			return nil, cli.Errorf(1, "Unrecognised filter value for health: %s", v)
		}
	}
	before, err := createdOf(e, a["before"])
	if err != nil {
		return nil, err
	}
	since, err := createdOf(e, a["since"])
	if err != nil {
		return nil, err
	}
	images := ancestors(root, a["ancestor"])
	var out []*state.Container
	for _, ct := range cs {
		if !all && !ct.State.Running {
			continue
		}
		name := strings.TrimPrefix(ct.Name, "/")
		ok := a.Any("id", func(v string) bool { return strings.HasPrefix(ct.ID, v) }) &&
			(a.Match("name", name) || a.Match("name", "/"+name)) &&
			a.MatchLabels(ct.Config.Labels) &&
			a.Any("status", func(v string) bool { return string(ct.State.Status) == v }) &&
			(len(exited) == 0 || (ct.State.Status == state.Exited && exited[ct.State.ExitCode])) &&
			a.Any("health", func(v string) bool { return healthOf(ct) == v }) &&
			a.Any("network", func(v string) bool { return networkOf(ct) == v }) &&
			a.Any("ancestor", func(v string) bool { return ct.Config.Image == v || images[v] == ct.Image }) &&
			(before == nil || ct.Created.Before(*before)) &&
			(since == nil || ct.Created.After(*since))
		if ok {
			out = append(out, ct)
		}
	}
	return out, nil
}

// healthOf is the health filter's word for a container: none without a check.
func healthOf(ct *state.Container) string {
	if ct.State.Health == nil {
		return "none"
	}
	return string(ct.State.Health.Status)
}

func networkOf(ct *state.Container) string {
	if n := string(ct.HostConfig.NetworkMode); n != "" && n != "default" {
		return n
	}
	return "bridge"
}

// ancestors resolves each ancestor= image to its ID in the store.
func ancestors(root string, refs []string) map[string]string {
	out := map[string]string{}
	if len(refs) == 0 {
		return out
	}
	s, err := store.Open(root)
	if err != nil {
		return out
	}
	for _, r := range refs {
		if img, err := s.Lookup(r); err == nil {
			out[r] = img.ID.String()
		}
	}
	return out
}

// createdOf is the creation time of the before=/since= container (the
// last one given), nil when none was given.
func createdOf(e *engine.Engine, refs []string) (*time.Time, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	ct, err := e.Find(refs[len(refs)-1])
	if err != nil {
		return nil, cli.Errorf(1, "no such container %s", refs[len(refs)-1])
	}
	t := ct.Created
	return &t, nil
}

// containerSize is ps -s: the bytes of the upper layer, and of the
// upper layer with the image's layers (hard links counted once).
func containerSize(ct *state.Container) (rw, virtual int64) {
	rw = imageops.DirSize(ct.GraphDriver.Data["UpperDir"])
	virtual = rw
	for _, l := range ct.LowerDirs() {
		virtual += imageops.DirSize(l)
	}
	return rw, virtual
}
