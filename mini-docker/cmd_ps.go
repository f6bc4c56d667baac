package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

func newFlags(name, usage, summary string, examples ...string) *cli.Flags {
	f := cli.NewFlags(cli.Command{Tool: "mini-docker " + name, Usage: usage, Summary: summary, Examples: examples})
	f.SetInterspersed(true)
	return f
}

func openEngine(c *ctx, f *cli.Flags) (*engine.Engine, error) {
	e, err := engine.NewEngine(c.root)
	if err != nil {
		return nil, err
	}
	e.Explain = f.Explainer()
	return e, nil
}

// notFound gives Docker's exit code (1) to a lookup failure.
func notFound(err error) error { return cli.WithCode(err, 1) }

func cmdPs(c *ctx, args []string) error {
	f := newFlags("ps", "[-a] [-q] [--no-trunc]", "List containers (running ones; -a for all).", "mini-docker ps -a")
	all := f.BoolP("all", "a", false, "show all containers (default shows just running)")
	quiet := f.BoolP("quiet", "q", false, "only display container IDs")
	noTrunc := f.Bool("no-trunc", false, "don't truncate output")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	e, err := openEngine(c, f)
	if err != nil {
		return err
	}
	cs, err := e.List()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	if !*quiet {
		fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	}
	for _, ct := range cs {
		if !*all && !ct.State.Running {
			continue
		}
		id := container.ShortID(ct.ID)
		if *noTrunc {
			id = ct.ID
		}
		if *quiet {
			fmt.Fprintln(w, id)
			continue
		}
		cmd := strings.Join(append([]string{ct.Path}, ct.Args...), " ")
		if !*noTrunc && len([]rune(cmd)) > 20 {
			cmd = string([]rune(cmd)[:19]) + "…"
		}
		fmt.Fprintf(w, "%s\t%s\t%q\t%s ago\t%s\t%s\t%s\n", id, ct.Config.Image, cmd,
			units.HumanDuration(time.Since(ct.Created)), status(ct), ports(ct), strings.TrimPrefix(ct.Name, "/"))
	}
	return w.Flush()
}

// status is ps's STATUS column, in Docker's words.
func status(ct *container.Container) string {
	s := ct.State
	switch {
	case s.Paused:
		return "Up " + units.HumanDuration(time.Since(s.StartedAt)) + " (Paused)"
	case s.Running:
		return "Up " + units.HumanDuration(time.Since(s.StartedAt))
	case s.Status == container.Created:
		return "Created"
	case s.Status == container.Dead:
		return "Dead"
	}
	return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, units.HumanDuration(time.Since(s.FinishedAt)))
}

func ports(ct *container.Container) string {
	var out []string
	for k, bs := range ct.HostConfig.PortBindings {
		for _, b := range bs {
			out = append(out, fmt.Sprintf("%s:%s->%s", b.HostIP, b.HostPort, k))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
