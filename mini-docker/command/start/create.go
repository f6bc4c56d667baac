package start

import (
	"fmt"

	"mini-docker/internal/cli"
)

const createUsage = `Usage: mini-docker create [OPTIONS] IMAGE [COMMAND] [ARG...]

Create a new container, as docker create does: the image pulled when
missing and the container recorded in status "created", with run's
flags; nothing is mounted or started until mini-docker start.

Options:
%s
Examples:
  mini-docker create --name box debian echo hello
  mini-docker start -a box
  mini-docker create -it --name shell debian bash
  mini-docker start -ai shell
`

// Create is docker create: run's flags, the container recorded, its
// ID printed.
func Create(root string, args []string) error {
	o, err := parse("create", createUsage, args)
	if o == nil || err != nil {
		return err
	}
	if o.Detach {
		return cli.Usagef("mini-docker create", "unknown flag: --detach")
	}
	_, ct, _, err := create(root, o, false)
	if err != nil {
		return RunError(err)
	}
	fmt.Println(ct.ID)
	return nil
}
