package probe

import (
	"fmt"
	"os"
	"strconv"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
)

// Lessons 12 to 14 check containers that mini-docker made: its record
// (in the state root the learner's commands use, $MINI_DOCKER_ROOT),
// then the kernel's view of the container's process.

// Record finds mini-docker's record of container name.
func Record(name string) (*container.Container, error) {
	return (&container.Store{Root: cli.StateRoot()}).Find(name)
}

// Running finds mini-docker's container name, running, with its process
// alive.
func Running(name string) (*container.Container, error) {
	c, err := Record(name)
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

// InContainer is a check's test that runs f on the first process of
// mini-docker's running container name.
func InContainer(name string, f func(pid int) error) func() error {
	return func() error {
		c, err := Running(name)
		if err != nil {
			return err
		}
		return f(c.State.Pid)
	}
}

// OnMount is a check's test that runs f on the topmost mount at point
// in container name's mount table (MountIn).
func OnMount(name, point string, f func(Mount) error) func() error {
	return func() error {
		m, err := MountIn(name, point)
		if err != nil {
			return err
		}
		return f(m)
	}
}

// MountIn returns the topmost mount at point in the mount table of
// container name's process.
func MountIn(name, point string) (Mount, error) {
	c, err := Running(name)
	if err != nil {
		return Mount{}, err
	}
	ms, err := MountsOf(strconv.Itoa(c.State.Pid))
	if err != nil {
		return Mount{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == point {
			return ms[i], nil
		}
	}
	return Mount{}, fmt.Errorf("nothing is mounted on %s in %s", point, name)
}
