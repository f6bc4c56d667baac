package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command/start"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
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
	if err := cmd.Run(); err != nil {
		var x *exec.ExitError
		if errors.As(err, &x) {
			return cli.ExitCode(x.ExitCode())
		}
		return err
	}
	return nil
}

func cmdPull(c *ctx, args []string) error {
	return pullTool(c, append([]string{"--root", c.root}, args...)...)
}

// usersOf lists the containers whose image is img (by image ID).
func usersOf(e *engine.Engine, imageID string) []*container.Container {
	cs, _ := e.List()
	var out []*container.Container
	for _, ct := range cs {
		if ct.Image == imageID {
			out = append(out, ct)
		}
	}
	return out
}

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
		users := usersOf(e, img.ID.String())
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

func cmdImagePrune(c *ctx, args []string) error {
	f := newFlags("image prune", "[-f] [-a]", "Remove images no container uses (with -a).", "mini-docker image prune -a -f")
	force := f.BoolP("force", "f", false, "do not prompt for confirmation")
	all := f.BoolP("all", "a", false, "remove all images not used by a container")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if !*force && !confirm("WARNING! This will remove images without a container.") {
		return nil
	}
	e, err := openEngine(c, f)
	if err != nil {
		return err
	}
	return pruneImages(c, e, *all)
}

// pruneImages removes the images no container uses (all) and the blobs
// no image references.
func pruneImages(c *ctx, e *engine.Engine, all bool) error {
	s, err := store.Open(c.root)
	if err != nil {
		return err
	}
	if all {
		list, err := s.List()
		if err != nil {
			return err
		}
		for _, img := range list {
			if len(usersOf(e, img.ID.String())) == 0 {
				if _, err := s.Remove(img.Ref); err != nil {
					return err
				}
				fmt.Printf("Deleted Images:\nuntagged: %s\n", img.Ref)
			}
		}
	}
	_, err = s.Prune()
	return err
}
