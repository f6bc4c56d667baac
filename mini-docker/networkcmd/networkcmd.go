// Package networkcmd is `mini-docker network`: Docker's network
// commands over mini-docker/networks (lesson 12).
package networkcmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/formatter"
	"mini-docker/mini-docker/networks"
)

const tool = "mini-docker network"

// Run runs `mini-docker network ARGS` on the state root.
func Run(root string, args []string) error {
	c := &cmd{nets: &networks.Store{Root: root}, ctrs: &container.Store{Root: root}}
	d := cli.Dispatcher{
		Tool: tool,
		Summary: `User-defined bridge networks, as Docker's: each its own bridge and subnet,
isolated from the others; containers on one find each other by name.`,
		Commands: []cli.Subcommand{
			{Name: "create", Usage: "create [--subnet CIDR] [--gateway IP] NAME", Summary: "create a network", Run: c.create},
			{Name: "ls", Usage: "ls [-q]", Summary: "list networks", Run: c.ls},
			{Name: "list", Usage: "list [-q]", Summary: "list networks (ls)", Run: c.ls},
			{Name: "inspect", Usage: "inspect [-f FORMAT] NETWORK...", Summary: "Docker's JSON for networks, with their containers", Run: c.inspect},
			{Name: "rm", Usage: "rm NETWORK...", Summary: "remove networks no container uses", Run: c.rm},
			{Name: "prune", Usage: "prune [-f]", Summary: "remove every network no container uses", Run: c.prune},
			{Name: "connect", Usage: "connect [--alias NAME] NETWORK CONTAINER", Summary: "connect a container to a network (one more interface)", Run: c.connect},
			{Name: "disconnect", Usage: "disconnect NETWORK CONTAINER", Summary: "disconnect a container from a network", Run: c.disconnect},
		},
		Examples: []string{"mini-docker network create app", "mini-docker run -d --network app --name db busybox sleep 300",
			"mini-docker run --rm --network app busybox ping -c1 db", "mini-docker network connect app web", "mini-docker network inspect app"},
	}
	return d.Run(args)
}

type cmd struct {
	nets *networks.Store
	ctrs *container.Store
}

func newFlags(name, usage, summary string, examples ...string) *cli.Flags {
	return cli.NewFlags(cli.Command{Tool: tool + " " + name, Usage: usage, Summary: summary, Examples: examples, Interspersed: true})
}

func (c *cmd) create(args []string) error {
	f := newFlags("create", "[--subnet CIDR] [--gateway IP] NAME", "Create a bridge network: a record now, its bridge when the first container joins. Without --subnet it takes the first free /16 of 172.19-31.",
		"mini-docker network create app", "mini-docker network create --subnet 10.10.0.0/24 lab")
	var o networks.CreateOptions
	f.StringVar(&o.Subnet, "subnet", "", "the network's subnet, `CIDR`")
	f.StringVar(&o.Gateway, "gateway", "", "the bridge's address, `IP` (default: the subnet's first)")
	driver := f.StringP("driver", "d", "bridge", "driver: only bridge")
	labels := f.StringArray("label", nil, "set metadata `KEY=VALUE`")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 1 {
		return cli.Usagef(tool+" create", "\"network create\" requires exactly 1 argument")
	}
	if *driver != "bridge" {
		return cli.Errorf(1, "plugin %q not found (mini-docker has the bridge driver only)", *driver)
	}
	o.Name = f.Arg(0)
	o.Labels = map[string]string{}
	for _, l := range *labels {
		k, v, _ := strings.Cut(l, "=")
		o.Labels[k] = v
	}
	n, err := c.nets.Create(o)
	if err != nil {
		return cli.Errorf(1, "%v", err)
	}
	fmt.Println(n.ID)
	return nil
}

func (c *cmd) ls(args []string) error {
	f := newFlags("ls", "[-q]", "List networks: the default bridge, host and none, and those made with network create.", "mini-docker network ls")
	quiet := f.BoolP("quiet", "q", false, "only display network IDs")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	all, err := c.nets.List()
	if err != nil {
		return err
	}
	l := cli.Listing{Header: []string{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}}
	for _, n := range all {
		l.Rows = append(l.Rows, []string{n.ID[:12], n.Name, n.Driver, "local"})
		if n.Name == networks.Default {
			l.Rows = append(l.Rows, []string{strings.Repeat("0", 11) + "1", "host", "host", "local"}, []string{strings.Repeat("0", 11) + "2", "none", "null", "local"})
		}
	}
	return l.Print(os.Stdout, *quiet)
}

func (c *cmd) inspect(args []string) error {
	f := newFlags("inspect", "[-f FORMAT] NETWORK...", "Print Docker's JSON for networks, with the containers attached to each and their addresses.",
		"mini-docker network inspect app", "mini-docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{end}}' app")
	format := f.StringP("format", "f", "", "format the output using the given Go template")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() == 0 {
		return cli.Usagef(tool+" inspect", "\"network inspect\" requires at least 1 argument")
	}
	var out []mobynet.Inspect
	failed := false
	for _, ref := range f.Args() {
		n, err := c.nets.Find(ref)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mini-docker: error: %v\n", err)
			failed = true
			continue
		}
		in, err := networks.Inspect(c.ctrs, n)
		if err != nil {
			return err
		}
		out = append(out, in)
	}
	if err := print(out, *format); err != nil {
		return err
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

// print writes v as docker inspect does (JSON indented by 4), or each
// element through a Go template over the same JSON field names.
func print(v []mobynet.Inspect, format string) error {
	if format == "" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if v == nil {
			v = []mobynet.Inspect{}
		}
		enc.Encode(v)
		_, err := os.Stdout.Write(b.Bytes())
		return err
	}
	tmpl, err := formatter.Parse("", format) // json, join, upper, ... as docker's
	if err != nil {
		return cli.Errorf(1, "template parsing error: %v", err)
	}
	for _, o := range v {
		var generic any
		b, _ := json.Marshal(o)
		json.Unmarshal(b, &generic)
		if err := tmpl.Execute(os.Stdout, generic); err != nil {
			return cli.Errorf(1, "template: %v", err)
		}
		fmt.Println()
	}
	return nil
}

func (c *cmd) rm(args []string) error {
	f := newFlags("rm", "NETWORK...", "Remove networks; a network that containers use (running or not) stays, as in Docker.", "mini-docker network rm app")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() == 0 {
		return cli.Usagef(tool+" rm", "\"network rm\" requires at least 1 argument")
	}
	failed := false
	for _, ref := range f.Args() {
		n, err := c.nets.Find(ref)
		if err == nil {
			err = c.nets.Remove(c.ctrs, n, f.Explainer())
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "mini-docker: error: %v\n", err)
			failed = true
			continue
		}
		fmt.Println(ref)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

func (c *cmd) prune(args []string) error {
	f := newFlags("prune", "[-f]", "Remove every user-defined network that no container uses.", "mini-docker network prune -f")
	f.BoolP("force", "f", false, "do not prompt for confirmation")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	removed, err := c.nets.Prune(c.ctrs, func(*networks.Network) bool { return false }, f.Explainer())
	if len(removed) > 0 {
		fmt.Println("Deleted Networks:")
		for _, n := range removed {
			fmt.Println(n)
		}
	}
	return err
}
