package networkcmd

import (
	"fmt"
	"sort"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
)

// Port is `mini-docker port CONTAINER [PORT[/PROTO]]`: the host ports a
// running container's ports are published on, as Docker prints them.
func Port(root string, args []string) error {
	f := cli.NewFlags(cli.Command{Tool: "mini-docker port", Usage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Summary:  "List the host ports a container's ports are published on (-p, and -P's free ports).",
		Examples: []string{"mini-docker run -d -P --name web IMAGE", "mini-docker port web", "mini-docker port web 80"}})
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() < 1 || f.NArg() > 2 {
		return cli.Usagef("mini-docker port", "\"port\" requires at least 1 and at most 2 arguments")
	}
	c, err := (&container.Store{Root: root}).Find(f.Arg(0))
	if err != nil {
		return err
	}
	ports := c.NetworkSettings.Ports
	if !c.State.Running {
		ports = nil
	}
	if f.NArg() == 2 {
		want := f.Arg(1)
		if !strings.Contains(want, "/") {
			want += "/tcp"
		}
		p, err := mobynet.ParsePort(want)
		if err != nil || len(ports[p]) == 0 {
			return cli.Errorf(1, "Error: No public port '%s' published for %s", want, strings.TrimPrefix(c.Name, "/"))
		}
		for _, b := range ports[p] {
			fmt.Printf("%s:%s\n", b.HostIP, b.HostPort)
		}
		return nil
	}
	var lines []string
	for p, bs := range ports {
		for _, b := range bs {
			lines = append(lines, fmt.Sprintf("%s -> %s:%s", p, b.HostIP, b.HostPort))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}
