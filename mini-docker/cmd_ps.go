package main

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

var (
	newFlags  = command.NewFlags
	notFound  = command.NotFound
	parseArgs = command.Parse
	// eachContainer runs fn for every name (command.Each).
	eachContainer = command.Each
)

func openEngine(c *ctx, f *cli.Flags) (*engine.Engine, error) { return command.OpenEngine(c.root, f) }

// openContainer opens the engine and finds container ref (command.OpenContainer).
func openContainer(c *ctx, f *cli.Flags, ref string) (*engine.Engine, *container.Container, error) {
	return command.OpenContainer(c.root, f, ref)
}
