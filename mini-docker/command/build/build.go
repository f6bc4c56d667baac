// Package build holds mini-docker's commands that read Dockerfile
// instructions: build (lesson 09's images, made step by step), and commit
// and import, whose --change takes instructions too. They run in a
// program of their own, mini-docker-build (mini-docker/cmd), which
// mini-docker runs for them as Docker's CLI runs its docker-buildx
// plugin for docker build: buildkit's Dockerfile parser and the protobuf
// packages it brings stay out of the program that starts every container.
package build

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/command/start"
	"mini-docker/mini-docker/dockerfile"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// Build is `mini-docker build`: docker build with Docker's classic builder.
func Build(root string, args []string) error {
	f := command.NewFlags("build", "[-t NAME[:TAG]]... [-f Dockerfile] [--build-arg K=V]... [--no-cache] CONTEXT",
		"Build an image from a Dockerfile, as Docker's classic builder does: each instruction runs on\n"+
			"the image the previous one made (RUN in a mini-docker container, --network none by default)\n"+
			"and is committed as a new image; an unchanged step reuses its image (Using cache).",
		"mini-docker build -t hello:1.0 .",
		"mini-docker build -t app -f docker/Dockerfile --build-arg VERSION=2 .",
		"mini-docker build --target build -t app:build .   # stop after the stage FROM ... AS build")
	tags := f.StringArrayP("tag", "t", nil, "name and optionally a tag, NAME[:TAG] (repeatable)")
	file := f.StringP("file", "f", "", "the Dockerfile (default CONTEXT/Dockerfile)")
	buildArgs := f.StringArray("build-arg", nil, "set a build-time variable, K=V (repeatable)")
	noCache := f.Bool("no-cache", false, "do not use the cache")
	target := f.String("target", "", "set the target build stage to build (its AS NAME)")
	network := f.String("network", "none", "network of the RUN containers: none, host or bridge")
	if err := command.Parse(f, args, "build", 1); err != nil {
		return cli.Done(err)
	}
	for _, t := range *tags {
		if _, err := reference.Parse(t); err != nil {
			return cli.WithCode(fmt.Errorf("invalid argument %q for \"-t, --tag\" flag: %w", t, err), 125)
		}
	}
	ba := map[string]string{}
	for _, kv := range *buildArgs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			v, ok = os.LookupEnv(k)
			if !ok {
				continue
			}
		}
		ba[k] = v
	}
	e, err := command.OpenEngine(root, f)
	if err != nil {
		return err
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	s.CleanIngest() // what a killed build (or pull) left in ingest/
	res, err := dockerfile.Build(s, e, dockerfile.Options{
		Context: f.Arg(0), Dockerfile: *file, Tags: *tags, BuildArgs: ba, NoCache: *noCache, Target: *target, Network: *network,
		Out: os.Stdout, Explain: f.Explainer(), Pull: start.PullFunc(e, root, f.Explaining()),
	})
	if err != nil {
		if errors.Is(err, dockerfile.ErrInterrupted) {
			return cli.WithCode(err, 130) // 128 + SIGINT, as a shell reports Ctrl-C
		}
		var re *dockerfile.RunError
		if errors.As(err, &re) {
			return cli.WithCode(err, re.Code)
		}
		var pe *dockerfile.ParseError
		if errors.As(err, &pe) {
			return cli.WithCode(err, 1)
		}
		if errors.Is(err, store.ErrNotFound) {
			return cli.WithHint(cli.WithCode(err, 1), "pull it first, or check the name in FROM")
		}
		var ec cli.ExitCode
		if errors.As(err, &ec) {
			return cli.WithCode(fmt.Errorf("FROM: the base image could not be pulled"), 1)
		}
		return cli.WithCode(err, 1)
	}
	_ = res
	return nil
}
