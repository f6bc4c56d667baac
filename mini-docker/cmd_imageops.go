package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker/go-units"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/overlay/overlayfs"
	"mini-docker/pull/store"
)

// containerLayers finds the container ref and its layers: the engine,
// the container, its upper dir and its lower dirs (top first).
func containerLayers(c *ctx, f *cli.Flags, ref string) (*engine.Engine, *container.Container, string, []string, error) {
	e, ct, err := openContainer(c, f, ref)
	if err != nil {
		return nil, nil, "", nil, err
	}
	upper := ct.GraphDriver.Data["UpperDir"]
	if upper == "" {
		return nil, nil, "", nil, &imageops.ErrNeverRan{ID: ct.ID}
	}
	return e, ct, upper, ct.LowerDirs(), nil
}

func cmdDiff(c *ctx, args []string) error {
	f := newFlags("diff", "CONTAINER", "Show what a container changed in its filesystem: its overlay upper layer\ncompared with the image (A added, C changed, D deleted).", "mini-docker diff demo")
	if err := parseArgs(f, args, "diff", 1); err != nil {
		return cli.Done(err)
	}
	_, _, upper, lower, err := containerLayers(c, f, f.Arg(0))
	if err != nil {
		return err
	}
	changes, err := overlayfs.Diff(upper, lower)
	if err != nil {
		return err
	}
	for _, ch := range imageops.DropMountPoints(changes, upper) {
		fmt.Println(ch)
	}
	return nil
}

func cmdHistory(c *ctx, args []string) error {
	f := newFlags("history", "[--no-trunc] [-q] IMAGE", "Show the history of an image: one line per entry of its config's history,\nnewest first, with the size of the layer the step made.", "mini-docker history hello:1.0")
	noTrunc := f.Bool("no-trunc", false, "don't truncate output")
	quiet := f.BoolP("quiet", "q", false, "only show image IDs")
	if err := parseArgs(f, args, "history", 1); err != nil {
		return cli.Done(err)
	}
	_, img, err := lookupImage(c.root, f.Arg(0))
	if err != nil {
		return err
	}
	rows, err := imageops.History(img)
	if err != nil {
		return err
	}
	l := cli.Listing{Header: []string{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}}
	for _, r := range rows {
		created := "N/A"
		if !r.Created.IsZero() {
			created = units.HumanDuration(time.Since(r.Created)) + " ago"
		}
		by := r.CreatedBy
		if !*noTrunc {
			by = imageops.Truncate(by, 45)
		}
		l.Rows = append(l.Rows, []string{r.ID, created, by, imageops.HumanSize(r.Size), r.Comment})
	}
	return l.Print(os.Stdout, *quiet)
}

// lookupImage opens the image store and finds ref in it; an image that
// is not there is docker's "No such image" (exit 1).
func lookupImage(root, ref string) (*store.Store, *imageops.Image, error) {
	s, err := store.Open(root)
	if err != nil {
		return nil, nil, err
	}
	img, err := imageops.Lookup(s, ref)
	if errors.Is(err, store.ErrNotFound) {
		//lint:ignore ST1005 Docker's own words, as docker prints them
		return nil, nil, notFound(fmt.Errorf("No such image: %s", ref))
	}
	return s, img, err
}

func cmdTag(c *ctx, args []string) error {
	f := newFlags("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE (one more name in index.json).", "mini-docker tag hello:1.0 127.0.0.1:5000/hello:1.0")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.Usagef("mini-docker tag", "\"tag\" requires exactly 2 arguments")
	}
	if err := checkRef(f.Arg(1)); err != nil {
		return cli.WithCode(err, 1)
	}
	s, img, err := lookupImage(c.root, f.Arg(0))
	if err != nil {
		return err
	}
	_, err = imageops.Tag(s, img, f.Arg(1), f.Explainer())
	return err
}

func cmdExport(c *ctx, args []string) error {
	f := newFlags("export", "-o FILE CONTAINER", "Export a container's filesystem as a tar archive (its image layers and upper layer, merged).", "mini-docker export -o demo.tar demo")
	out, err := command.ParseOutput(f, "export", args)
	if err != nil {
		return cli.Done(err)
	}
	e, ct, upper, lower, err := containerLayers(c, f, f.Arg(0))
	if err != nil {
		return err
	}
	return cli.WriteOutput(out, func(w *os.File) error { return imageops.Export(w, upper, lower, e.Store.Dir(ct.ID), f.Explainer()) })
}
