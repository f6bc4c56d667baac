package container

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/events"
)

// Rename is `mini-docker rename CONTAINER NEW_NAME`: the name in the
// container's recorded state changes; its ID, hostname and cgroup stay.
func Rename(root string, args []string) error {
	f := command.NewFlags("rename", "CONTAINER NEW_NAME", "Rename a container.", "mini-docker rename demo web")
	e, err := command.Open(root, f, args, "rename", 2)
	if err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.Usagef("mini-docker rename", "\"mini-docker rename\" requires exactly 2 arguments")
	}
	if f.Arg(0) == "" || f.Arg(1) == "" {
		return cli.Errorf(1, "Neither old nor new names may be empty")
	}
	ct, err := command.Find(e, f.Arg(0))
	if err != nil {
		return err
	}
	renamed, err := e.Store.Rename(ct.ID, f.Arg(1))
	if err != nil {
		return cli.Errorf(1, "%v", err)
	}
	events.Container(root, "rename", renamed, map[string]string{"oldName": ct.Name})
	return nil
}
