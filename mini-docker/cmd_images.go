package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/command/start"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// checkRef gives Docker's "invalid reference format" before anything runs.
func checkRef(ref string) error {
	if _, err := reference.Parse(ref); err != nil {
		return err
	}
	return nil
}

// pullTool runs `pull ARGS` with our stdio (pull, images, rmi use it).
func pullTool(c *ctx, args ...string) error {
	t, err := toolkit.SelfTools()
	if err != nil {
		return err
	}
	p, err := t.Path("pull", "pull")
	if err != nil {
		return err
	}
	cmd := exec.Command(p, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+c.root)
	start.EndsWithUs(cmd)
	return cli.ChildExit("pull", cmd.Run())
}

func cmdPull(c *ctx, args []string) error {
	return pullTool(c, append([]string{"--root", c.root}, args...)...)
}

// usersOf lists the containers whose image is img (by image ID).

func cmdRmi(c *ctx, args []string) error {
	f := newFlags("rmi", "[-f] IMAGE...", "Remove images (refused while a container uses one: its layers are that container's lower layers).", "mini-docker rmi debian")
	force := f.BoolP("force", "f", false, "also remove the containers using the image")
	e, err := open(c, f, args, "rmi", 1)
	if err != nil {
		return cli.Done(err)
	}
	s, err := store.Open(c.root)
	if err != nil {
		return err
	}
	for _, ref := range f.Args() {
		img, err := s.Lookup(ref)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				//lint:ignore ST1005 Docker's own words, as docker prints them
				return notFound(fmt.Errorf("No such image: %s", ref))
			}
			return err
		}
		users := command.ImageUsers(e, img.ID.String())
		if len(users) > 0 && !*force {
			return cli.Errorf(1, "conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				ref, container.ShortID(users[0].ID), img.ID.Encoded()[:12])
		}
		for _, u := range users {
			if err := e.Remove(u, true); err != nil {
				return err
			}
		}
	}
	return pullTool(c, append([]string{"rmi", "--root", c.root}, f.Args()...)...)
}
