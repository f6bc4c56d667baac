// Command mini-docker-build runs mini-docker's commands that read
// Dockerfile instructions: build, and commit and import (their --change);
// and those that move images through registries and archives: push,
// save, load, login and logout. mini-docker runs it for them, with the
// same arguments, as Docker's CLI runs its docker-buildx plugin for
// `docker build`: buildkit's Dockerfile parser and the protobuf packages
// it brings, the registry client and net/http are linked here, not into
// the mini-docker that starts every container. The commands are in
// mini-docker/command/build, command/ship and command/login. (pull stays
// a command of mini-docker: it runs the pull tool, as run does for an
// image it lacks.)
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package main

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/command/build"
	"mini-docker/mini-docker/command/login"
	"mini-docker/mini-docker/command/ship"
)

func main() {
	root := command.StateRoot("")
	rooted := func(cmd func(root string, args []string) error) func([]string) error {
		return func(args []string) error { return cmd(root, args) }
	}
	command.Main(&cli.Dispatcher{
		Tool: "mini-docker-build",
		Summary: "The mini-docker commands that read Dockerfile instructions or move images through registries\n" +
			"and archives, in a program of their own: `mini-docker build ARGS` runs `mini-docker-build build ARGS`,\n" +
			"and so for commit, import, push, save, load, login and logout.",
		Commands: []cli.Subcommand{
			{Name: "build", Usage: "build [-t NAME] CONTEXT", Summary: "Build an image from a Dockerfile.", Run: rooted(build.Build)},
			{Name: "commit", Usage: "commit CONTAINER [REF]", Summary: "A new image from a container's changes.", Run: rooted(build.Commit)},
			{Name: "import", Usage: "import FILE|URL|- [REF]", Summary: "An image of one layer from a root filesystem tar.", Run: rooted(build.Import)},
			{Name: "push", Usage: "push NAME[:TAG]", Summary: "Upload an image to its registry.", Run: rooted(ship.Push)},
			{Name: "save", Usage: "save [-o FILE] IMAGE...", Summary: "Images as a tar archive (docker save format).", Run: rooted(ship.Save)},
			{Name: "load", Usage: "load [-i FILE]", Summary: "Images from such an archive.", Run: rooted(ship.Load)},
			{Name: "login", Usage: "login [SERVER]", Summary: "Keep a registry password (~/.docker/config.json).", Run: rooted(login.Login)},
			{Name: "logout", Usage: "logout [SERVER]", Summary: "Remove it.", Run: rooted(login.Logout)},
		},
		Notes:    "The state root is $MINI_DOCKER_ROOT (default /var/lib/mini-docker), as mini-docker's --root sets it.",
		Examples: []string{"mini-docker build -t hello:1.0 .   # runs mini-docker-build build -t hello:1.0 ."},
	})
}
