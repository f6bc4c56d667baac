package container

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
)

var topSpec = command.Spec{
	Name: "top", Usage: "CONTAINER [ps OPTIONS]", MinArgs: 1,
	Summary:  "Display the running processes of a container, as seen from the host (ps -ef by default).",
	Examples: []string{"mini-docker top demo", "mini-docker top demo -o pid,user,comm", "mini-docker top demo aux"},
}

// Top is `mini-docker top CONTAINER [ps OPTIONS]`: the host's ps(1) on
// the processes of the container's PID namespace (ps -ef's columns by
// default, as Docker's), so its PIDs are the host's.
func Top(root string, args []string) error {
	f := topSpec.Flags()
	f.SetInterspersed(false)
	e, err := topSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	ct, err := command.Find(e, f.Arg(0))
	if err != nil {
		return err
	}
	if !ct.State.Running {
		return cli.Errorf(1, "Container %s is not running", ct.ID)
	}
	pids := map[string]bool{}
	for _, p := range e.Pids(ct) {
		pids[strconv.Itoa(p)] = true
	}
	psArgs := f.Args()[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return cli.Errorf(1, "Error running ps: %v", err)
	}
	rows, err := containerRows(string(out), pids)
	if err != nil {
		return cli.WithCode(err, 1)
	}
	os.Stdout.WriteString(rows)
	return nil
}

// containerRows keeps ps's header and the rows whose PID column names a
// process of the container, as the Docker daemon filters ps's output.
func containerRows(out string, pids map[string]bool) (string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		//lint:ignore ST1005 Docker's own words
		return "", fmt.Errorf("Couldn't find PID field in ps output")
	}
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > col && pids[f[col]] {
			b.WriteString(l + "\n")
		}
	}
	return b.String(), nil
}
