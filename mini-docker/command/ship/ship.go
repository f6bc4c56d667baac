// Package ship holds mini-docker's commands that move images in and out
// of the store: push (to a registry), save and load (docker-archive and
// OCI tar files). They run in mini-docker-build, with login and logout:
// the registry client and net/http they link stay out of the program that
// starts every container, as build's Dockerfile parser does.
package ship

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/imageops/push"
	"mini-docker/pull/image"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
)

// Push is `mini-docker push`.
func Push(root string, args []string) error {
	f := command.NewFlags("push", "[--chunk-size BYTES] NAME[:TAG]",
		"Upload an image to its registry with the distribution API: a HEAD per blob (skip what the\n"+
			"registry has), a cross-repository mount where it can, monolithic or chunked uploads, and\n"+
			"the manifest last. Passwords: ~/.docker/config.json (docker login), as for pull.",
		"mini-docker push 127.0.0.1:5000/hello:1.0")
	chunk := f.Int64("chunk-size", 16<<20, "upload blobs larger than this in PATCH chunks of this size")
	insecure := f.StringArray("insecure-registry", nil, "registry HOST:PORT that may be reached over plain HTTP (loopback always may)")
	if err := command.Parse(f, args, "push", 1); err != nil {
		return cli.Done(err)
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	if _, err := s.Lookup(f.Arg(0)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return cli.WithCode(fmt.Errorf("An image does not exist locally with the tag: %s", f.Arg(0)), 1)
		}
		return cli.WithCode(err, 1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_, err = push.Push(ctx, s, f.Arg(0), push.Options{
		Registry: registry.Options{Insecure: *insecure}, ChunkSize: *chunk, Out: os.Stdout, Explain: f.Explainer(),
	})
	if err != nil {
		var re *registry.Error
		if errors.As(err, &re) && re.Code != "" {
			return cli.WithHint(cli.WithCode(err, 1), "the registry refused with "+re.Code)
		}
		return cli.WithCode(err, 1)
	}
	return nil
}

// Save is `mini-docker save`.
func Save(root string, args []string) error {
	f := command.NewFlags("save", "[-o FILE] IMAGE...", "Save images to a tar archive that is both a docker-archive (manifest.json, for docker load)\nand an OCI archive (oci-layout, index.json).", "mini-docker save -o hello.tar hello:1.0", "mini-docker save hello:1.0 | docker load")
	out, err := command.ParseOutput(f, "save", args)
	if err != nil {
		return cli.Done(err)
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	for _, ref := range f.Args() {
		if _, err := s.Lookup(ref); err != nil {
			return command.NotFound(err)
		}
	}
	return cli.WriteOutput(out, func(w *os.File) error { return image.Save(s, f.Args(), w) })
}

// Load is `mini-docker load`.
func Load(root string, args []string) error {
	f := command.NewFlags("load", "[-i FILE]", "Load images from a docker-archive (docker save) or an OCI archive.", "mini-docker load -i hello.tar", "docker save busybox | mini-docker load")
	in := f.StringP("input", "i", "", "read from FILE instead of stdin")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	// The bounds on layers of daemon.json, as `pull load` applies them.
	lim, err := image.DaemonLimits(s)
	if err != nil {
		return err
	}
	names, err := image.LoadFile(context.Background(), s, *in, lim, f.Explainer())
	if err != nil {
		return cli.WithCode(err, 1)
	}
	for _, n := range names {
		fmt.Printf("Loaded image: %s\n", n)
	}
	return nil
}
