// Command mini-docker-serve serves the Docker Engine API on a socket, so
// that the docker CLI drives mini-docker (mini-docker/api). mini-docker
// runs it for `mini-docker serve`, with the same arguments, as it runs
// mini-docker-build for build: the HTTP server, the API's types and
// buildkit's Dockerfile parser (POST /build) are linked here, not into the
// mini-docker that starts every container.
//
// Lesson 14 (lessons/14-api.md) teaches it.
package main

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/api"
	"mini-docker/mini-docker/command"
)

func main() {
	root := command.StateRoot("")
	command.Main(&cli.Dispatcher{
		Tool: "mini-docker-serve",
		Summary: "mini-docker's API server, in a program of its own:\n" +
			"`mini-docker serve ARGS` runs `mini-docker-serve serve ARGS`.",
		Commands: []cli.Subcommand{
			{Name: "serve", Usage: "serve [-H unix:///PATH]", Summary: "Serve the Docker Engine API.", Run: func(args []string) error { return api.Main(root, args) }},
		},
		Notes:    "The state root is $MINI_DOCKER_ROOT (default /var/lib/mini-docker), as mini-docker's --root sets it.",
		Examples: []string{"mini-docker serve -H unix:///run/mini-docker.sock   # runs mini-docker-serve serve -H ..."},
	})
}
