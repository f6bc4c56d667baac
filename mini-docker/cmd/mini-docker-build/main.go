// Command mini-docker-build runs mini-docker's commands that read
// Dockerfile instructions: build, and commit and import (their --change).
// mini-docker runs it for `mini-docker build|commit|import`, with the
// same arguments, as Docker's CLI runs its docker-buildx plugin for
// `docker build`: buildkit's Dockerfile parser and the protobuf packages
// it brings are linked here, not into the mini-docker that starts every
// container. The commands are in mini-docker/command/build.
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package main

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/command/build"
)

func main() {
	root := command.StateRoot("")
	rooted := func(cmd func(root string, args []string) error) func([]string) error {
		return func(args []string) error { return cmd(root, args) }
	}
	command.Main(&cli.Dispatcher{
		Tool: "mini-docker-build",
		Summary: "The mini-docker commands that read Dockerfile instructions, in a program of their own:\n" +
			"`mini-docker build|commit|import ARGS` runs `mini-docker-build build|commit|import ARGS`.",
		Commands: []cli.Subcommand{
			{Name: "build", Usage: "build [-t NAME] CONTEXT", Summary: "Build an image from a Dockerfile.", Run: rooted(build.Build)},
			{Name: "commit", Usage: "commit CONTAINER [REF]", Summary: "A new image from a container's changes.", Run: rooted(build.Commit)},
			{Name: "import", Usage: "import FILE|URL|- [REF]", Summary: "An image of one layer from a root filesystem tar.", Run: rooted(build.Import)},
		},
		Notes:    "The state root is $MINI_DOCKER_ROOT (default /var/lib/mini-docker), as mini-docker's --root sets it.",
		Examples: []string{"mini-docker build -t hello:1.0 .   # runs mini-docker-build build -t hello:1.0 ."},
	})
}
