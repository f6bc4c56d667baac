// Package volume is `mini-docker volume create|ls|inspect|rm|prune`,
// Docker's volume commands over the local driver (package local): a
// volume is a folder under the state root, ROOT/volumes/NAME/_data, and
// a container uses it through a bind mount chroot makes (`run -v
// NAME:/data`, `--mount type=volume,...`; `run --explain` prints it).
//
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	gounits "github.com/docker/go-units"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/local"
	"mini-docker/mini-docker/volume/mounts"
)

const tool = "mini-docker volume"

// Command runs `mini-docker volume SUBCOMMAND ARGS` on state root root.
func Command(root string, args []string) error {
	d := cli.Dispatcher{
		Tool:    tool,
		Summary: "Manage volumes: folders under the state root that containers bind-mount (Docker's local driver).",
		Commands: []cli.Subcommand{
			{Name: "create", Usage: "create [--label K=V] [NAME]", Summary: "Create a volume (a random name when none is given).", Run: func(a []string) error { return create(root, a) }},
			{Name: "ls", Usage: "ls [-q]", Summary: "List volumes.", Run: func(a []string) error { return list(root, a) }},
			{Name: "inspect", Usage: "inspect NAME...", Summary: "Print volumes as Docker's JSON.", Run: func(a []string) error { return inspect(root, a) }},
			{Name: "rm", Usage: "rm [-f] NAME...", Summary: "Remove volumes no container uses.", Run: func(a []string) error { return remove(root, a) }},
			{Name: "prune", Usage: "prune [-f] [-a]", Summary: "Remove the anonymous volumes no container uses (-a: every unused volume).", Run: func(a []string) error { return prune(root, a) }},
		},
		Examples: []string{
			"mini-docker volume create data",
			"mini-docker run --rm -v data:/data debian sh -c 'echo hi > /data/f'",
			"mini-docker volume inspect data",
			"mini-docker volume rm data",
		},
	}
	d.Commands = append(d.Commands, cli.Subcommand{Name: "list", Usage: "list", Summary: "Same as ls.", Run: d.Commands[1].Run})
	return d.Run(args)
}

var createSpec = command.Spec{
	Name: "volume create", Usage: "[OPTIONS] [VOLUME]", MaxArgs: 1,
	Summary:  "Create a volume: the folder ROOT/volumes/NAME/_data and its record.",
	Examples: []string{"mini-docker volume create data", "mini-docker volume create --label project=demo data"},
}

func create(root string, args []string) error {
	f := createSpec.Flags()
	driver := f.StringP("driver", "d", "local", "volume driver name (only local)")
	labels := f.StringArray("label", nil, "set metadata for a volume (KEY=VALUE)")
	opts := f.StringArrayP("opt", "o", nil, "driver options (the local driver here takes none)")
	if err := createSpec.Parse(f, args); err != nil {
		return cli.Done(err)
	}
	name := f.Arg(0)
	if name != "" {
		if err := spec.CheckVolumeName(name); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	if *driver != local.Driver {
		return fmt.Errorf("create %s: error looking up volume plugin %s: plugin %q not found", name, *driver, *driver)
	}
	if len(*opts) > 0 {
		return fmt.Errorf("create %s: the local driver here takes no options (-o %s)", name, (*opts)[0])
	}
	var lm map[string]string
	for _, l := range *labels {
		k, v, _ := strings.Cut(l, "=")
		if lm == nil {
			lm = map[string]string{}
		}
		lm[k] = v
	}
	e, err := command.OpenEngine(root, f)
	if err != nil {
		return err
	}
	v, _, err := e.Volumes().Create(name, lm)
	if err != nil {
		return err
	}
	fmt.Println(v.Name)
	return nil
}

var listSpec = command.Spec{Name: "volume ls", Usage: "[-q]", Summary: "List volumes.", Examples: []string{"mini-docker volume ls"}}

func list(root string, args []string) error {
	f := listSpec.Flags()
	quiet := f.BoolP("quiet", "q", false, "only display volume names")
	if err := listSpec.Parse(f, args); err != nil {
		return cli.Done(err)
	}
	vs, err := (&local.Store{Root: root}).List()
	if err != nil {
		return err
	}
	l := cli.Listing{Header: []string{"DRIVER", "VOLUME NAME"}, Key: 1}
	for _, v := range vs {
		l.Rows = append(l.Rows, []string{v.Driver, v.Name})
	}
	return l.Print(os.Stdout, *quiet)
}

var inspectSpec = command.Spec{
	Name: "volume inspect", Usage: "NAME...", MinArgs: 1,
	Summary: "Print volumes as Docker's JSON.", Examples: []string{"mini-docker volume inspect data"},
}

func inspect(root string, args []string) error {
	f := inspectSpec.Flags()
	if err := inspectSpec.Parse(f, args); err != nil {
		return cli.Done(err)
	}
	s := &local.Store{Root: root}
	out := []*local.Volume{}
	var missing error
	for _, name := range f.Args() {
		v, err := s.Get(name)
		if err != nil {
			missing = err
			continue
		}
		out = append(out, v)
	}
	b, _ := json.MarshalIndent(out, "", "    ")
	fmt.Println(string(b))
	if missing != nil {
		return cli.WithCode(missing, 1)
	}
	return nil
}

var removeSpec = command.Spec{
	Name: "volume rm", Usage: "[-f] NAME...", MinArgs: 1,
	Summary: "Remove volumes: refused for a volume a container (in any state) uses.", Examples: []string{"mini-docker volume rm data"},
}

func remove(root string, args []string) error {
	f := removeSpec.Flags()
	force := f.BoolP("force", "f", false, "do not fail on a volume that does not exist")
	e, err := removeSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	failed := false
	for _, name := range f.Args() {
		if err := RemoveUnused(e, name); err != nil {
			if *force && errors.Is(err, local.ErrNoSuchVolume) {
				continue
			}
			failed = true
			cli.Report(os.Stderr, "mini-docker", err)
			continue
		}
		fmt.Println(name)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

// RemoveUnused removes volume name unless a container uses it (Docker's
// "volume is in use" names them all): volume rm, volume prune and the
// API's DELETE /volumes/NAME.
func RemoveUnused(e *engine.Engine, name string) error {
	vs := e.Volumes()
	if _, err := vs.Get(name); err != nil {
		return err
	}
	users, err := mounts.Users(e.Store, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))
	}
	return vs.Remove(name)
}

var pruneSpec = command.Spec{
	Name: "volume prune", Usage: "[-f] [-a]",
	Summary:  "Remove the anonymous volumes no container uses; with -a, every unused volume (Docker 23 and later).",
	Examples: []string{"mini-docker volume prune -f"},
}

func prune(root string, args []string) error {
	f := pruneSpec.Flags()
	f.BoolP("force", "f", false, "do not prompt for confirmation (mini-docker never prompts)")
	all := f.BoolP("all", "a", false, "remove named volumes too")
	e, err := pruneSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	vs, err := e.Volumes().List()
	if err != nil {
		return err
	}
	var deleted []string
	var space int64
	for _, v := range vs {
		if !*all && !local.Anonymous(v) {
			continue
		}
		size := e.Volumes().Size(v.Name)
		if RemoveUnused(e, v.Name) == nil {
			deleted = append(deleted, v.Name)
			space += size
		}
	}
	if len(deleted) > 0 {
		fmt.Printf("Deleted Volumes:\n%s\n\n", strings.Join(deleted, "\n"))
	}
	fmt.Printf("Total reclaimed space: %s\n", gounits.HumanSize(float64(space)))
	return nil
}
