package container

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/events"
)

var renameSpec = command.Spec{
	Name: "rename", Usage: "CONTAINER NEW_NAME", MinArgs: 2, MaxArgs: 2,
	Summary: "Rename a container.", Examples: []string{"mini-docker rename demo web"},
}

// Rename is `mini-docker rename CONTAINER NEW_NAME`: the name in the
// container's recorded state changes; its ID, hostname and cgroup stay.
func Rename(root string, args []string) error {
	f := renameSpec.Flags()
	e, err := renameSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
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
