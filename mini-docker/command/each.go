package command

import (
	"fmt"
	"os"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

// Each runs fn for every name, printing the name on success as
// Docker does, and errors (one line each) on stderr; the exit code is 1
// when any failed.
func Each(e *engine.Engine, refs []string, quiet bool, fn func(ct *container.Container) error) error {
	failed := 0
	var last error
	for _, ref := range refs {
		ct, err := e.Find(ref)
		if err == nil {
			err = fn(ct)
		}
		if err != nil {
			failed++
			last = err
			if len(refs) > 1 {
				cli.Report(os.Stderr, "mini-docker", err)
			}
			continue
		}
		if !quiet {
			fmt.Println(ref)
		}
	}
	if failed == 0 {
		return nil
	}
	if len(refs) > 1 {
		return cli.ExitCode(1)
	}
	return NotFound(last)
}
