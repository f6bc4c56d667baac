package lessoncheck

import (
	"fmt"
	"os"
	"strconv"

	"mini-docker/internal/cli"
	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/mini-docker/container"
)

// Lessons 12 to 14 check containers that mini-docker made: its record
// (in the state root the learner's commands use, $MINI_DOCKER_ROOT),
// then the kernel's view of the container's process.

// record finds mini-docker's record of container name.
func record(name string) (*container.Container, error) {
	return (&container.Store{Root: cli.StateRoot()}).Find(name)
}

// running finds mini-docker's container name, running, with its process
// alive.
func running(name string) (*container.Container, error) {
	c, err := record(name)
	if err != nil {
		return nil, err
	}
	if !c.State.Running || c.State.Pid == 0 {
		return nil, fmt.Errorf("%s is not running", name)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", c.State.Pid)); err != nil {
		return nil, fmt.Errorf("%s's process %d is gone", name, c.State.Pid)
	}
	return c, nil
}

// inContainer is a check's test that runs f on the first process of
// mini-docker's running container name.
func inContainer(name string, f func(pid int) error) func() error {
	return func() error {
		c, err := running(name)
		if err != nil {
			return err
		}
		return f(c.State.Pid)
	}
}

// mountIn returns the topmost mount at point in the mount table of
// container name's process.
func mountIn(name, point string) (probe.Mount, error) {
	c, err := running(name)
	if err != nil {
		return probe.Mount{}, err
	}
	ms, err := probe.MountsOf(strconv.Itoa(c.State.Pid))
	if err != nil {
		return probe.Mount{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == point {
			return ms[i], nil
		}
	}
	return probe.Mount{}, fmt.Errorf("nothing is mounted on %s in %s", point, name)
}
