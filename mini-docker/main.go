// Command mini-docker runs containers the way `docker run` does, by
// chaining the toolkit's eight small tools, one per kernel primitive:
//
//	pull → overlay mount → cgroupctl create → vethctl (netns, veth, bridge)
//	→ unshare → cgroupctl exec → chroot --pivot → seccompctl → capctl → CMD
//
// `mini-docker run --explain` prints that chain as commands a learner can
// type; `run --tool-chain` runs it so. By default the same steps run
// through the tools' packages, the inside ones in one small program,
// mini-docker-inside (mini-docker/inside), which is faster. It also keeps Docker's container lifecycle (ps, exec, logs, stop,
// rm, inspect, ...) with Docker's flag names, messages and exit codes.
// The logic is in mini-docker/engine (the chain) and
// mini-docker/container (state, IDs, names, locks).
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	mdcontainer "mini-docker/mini-docker/command/container"
	"mini-docker/mini-docker/command/image"
	"mini-docker/mini-docker/command/start"
	"mini-docker/mini-docker/command/system"
	"mini-docker/mini-docker/cp"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/monitor"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/mini-docker/networkcmd"
	"mini-docker/mini-docker/ociruntime"
	"mini-docker/mini-docker/volume"
)

const tool = "mini-docker"

const usage = `Usage: mini-docker [--root DIR] COMMAND [OPTIONS]

Run containers the way Docker does, by chaining the toolkit's tools:
pull, overlay, cgroupctl, vethctl, unshare, chroot, seccompctl, capctl.

Containers:
  run IMAGE [CMD...]       create and start a container (--explain prints the chain)
  ps [-a] [-q] [-f K=V]    list containers (--format, --filter, -l, -n, -s)
  exec CONTAINER CMD...    run a command in a running container
  logs [-f] [-n N] [-t] C  a container's output, stdout and stderr apart
  stop CONTAINER...        SIGTERM, then SIGKILL after a grace period
  kill CONTAINER...        send a signal (default SIGKILL)
  create IMAGE [CMD...]    create a container without starting it (run's flags)
  start [-ai] CONTAINER... start containers (-a: attached, -i: with our input)
  attach CONTAINER         connect this terminal to a running container (ctrl-p ctrl-q detaches)
  restart CONTAINER...     stop and start
  pause CONTAINER...       freeze every process (freezer cgroup)
  unpause CONTAINER...     thaw them
  rm [-f] CONTAINER...     remove containers (and everything they made)
  wait CONTAINER...        wait for containers to end, print their exit codes
  inspect [-f FMT] NAME... Docker's JSON for containers and images
  top CONTAINER [ps OPTS]  the container's processes
  stats [CONTAINER...]     CPU, memory, network, block I/O, pids (cgroup files)
  rename CONTAINER NAME    give a container another name
  diff CONTAINER           files changed in the container's upper layer
  commit CONTAINER [REF]   a new image from a container's changes
  export -o FILE CONTAINER the container's filesystem as a tar archive
  cp SRC DST               copy files between a container and the host (CONTAINER:PATH, - for tar)
  container prune          remove every stopped container
  container CMD, image CMD Docker's management names: container ls, image rm, ...

Images:
  pull IMAGE               pull an image into the store
  images [-q] [--format T] list images (rmi $(mini-docker images -q) removes all)
  build [-t NAME] CONTEXT  build an image from a Dockerfile
  history IMAGE            the layers of an image and what made them
  tag SOURCE TARGET        give an image another name
  push NAME[:TAG]          upload an image to its registry
  login [SERVER]           keep a registry password (~/.docker/config.json)
  logout [SERVER]          remove it
  save [-o FILE] IMAGE...  images as a tar archive (docker save format)
  load [-i FILE]           images from such an archive
  import FILE|URL|- [REF]  an image of one layer from a root filesystem tar (docker export)
  rmi IMAGE...             remove images
  image prune              remove untagged images

Volumes:
  volume create|ls|inspect|rm|prune   named and anonymous volumes (folders under the state root)

Host:
  info                     what this host supports
  compare [FLAGS] IMAGE    the same run under docker and mini-docker, side by side
  lesson list|check ID     the workshop's exercises, checked on the live system
  network COMMAND          user networks: create ls inspect rm prune connect disconnect
  port CONTAINER           the host ports its ports are published on (-p, -P)
  runtime COMMAND ...      an OCI runtime with runc's command line (create, start, state, ...)
  system prune             remove stopped containers and leftovers of crashes
  system df                disk used by images, containers, volumes
  events [--since T]       the recorded state changes (create, start, die, ...)
  serve [-H unix:///PATH]  serve the Docker Engine API: the docker CLI drives mini-docker
  version                  print the version

Global options:
  --root DIR   state root (default $MINI_DOCKER_ROOT or /var/lib/mini-docker)

Examples:
  mini-docker run debian echo hello world
  mini-docker run -d --name demo debian sleep 300
  mini-docker exec -it demo bash
  mini-docker run --explain --rm debian true
`

func main() {
	// A detached container's monitor and --init's init are modes of this
	// binary; checked first so they do as little as possible.
	if len(os.Args) > 1 && os.Args[1] == engine.MonitorArg && len(os.Args) == 4 {
		os.Exit(monitor.Run(os.Args[2], os.Args[3]))
	}
	if isInit() {
		os.Exit(runInit(os.Args[1:]))
	}
	if filepath.Base(os.Args[0]) == "mini-docker-runtime" { // the OCI runtime, for dockerd --add-runtime
		cli.Main("mini-docker-runtime", ociruntime.Main)
	}
	cli.Main(tool, run)
}

func run(args []string) error {
	root := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "--root" && len(args) > 1:
			root, args = args[1], args[2:]
		case strings.HasPrefix(args[0], "--root="):
			root, args = strings.TrimPrefix(args[0], "--root="), args[1:]
		case args[0] == "-h" || args[0] == "--help":
			fmt.Print(usage)
			return nil
		case args[0] == "-v" || args[0] == "--version":
			fmt.Printf("mini-docker version %s\n", cli.Version)
			return nil
		default:
			return cli.Usagef(tool, "unknown flag: %s", args[0])
		}
	}
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return cli.Usagef(tool, "no command given")
	}
	name, rest := args[0], args[1:]
	if name == "container" || name == "system" || name == "image" {
		if len(rest) == 0 {
			return cli.Usagef(tool, "%s: want a sub-command", name)
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	cmd, ok := commandTable()[name]
	if !ok {
		return cli.Usagef(tool, "unknown command %q", name)
	}
	return cmd(&ctx{root: command.StateRoot(root)}, rest)
}

// ctx carries what every command needs.
type ctx struct {
	root string
}

// commandTable maps each command's name to its function. It is built
// when a command is looked up, not at start-up: a container's monitor
// and init, modes of this binary that main picks first, never need it.
func commandTable() map[string]func(*ctx, []string) error {
	ps, images := rooted(mdcontainer.Ps), rooted(image.Images)
	commands := map[string]func(*ctx, []string) error{
		"run": rooted(start.Run), "create": rooted(start.Create), "attach": rooted(start.Attach), "ps": ps, "exec": cmdExec, "logs": rooted(mdcontainer.Logs), "stop": cmdStop,
		"kill": cmdKill, "start": rooted(start.Start), "restart": cmdRestart, "pause": cmdPause,
		"unpause": cmdUnpause, "rm": cmdRm, "wait": cmdWait, "inspect": cmdInspect, "top": rooted(mdcontainer.Top),
		"stats": rooted(mdcontainer.Stats), "rename": rooted(mdcontainer.Rename),
		"pull": cmdPull, "images": images, "rmi": cmdRmi, "info": rooted(system.Info), "version": rooted(system.Version),
		"system info": rooted(system.Info), "system df": rooted(system.Df), "events": rooted(system.Events), "system events": rooted(system.Events),
		"container prune": rooted(system.ContainerPrune), "system prune": rooted(system.SystemPrune),
		"container ls": ps, "container list": ps, "image ls": images, "image list": images, "image rm": cmdRmi,
		"image prune": rooted(system.ImagePrune), "compare": cmdCompare, "build": elsewhere("build"), "commit": elsewhere("commit"),
		"diff": cmdDiff, "history": cmdHistory, "tag": cmdTag, "push": elsewhere("push"),
		"export": cmdExport, "import": elsewhere("import"), "save": elsewhere("save"), "load": elsewhere("load"), "lesson": cmdLesson, "network": func(c *ctx, a []string) error { return networkcmd.Run(c.root, a) },
		"port":    func(c *ctx, a []string) error { return networkcmd.Port(c.root, a) },
		"runtime": func(_ *ctx, args []string) error { return ociruntime.Main(args) }, "login": elsewhere("login"), "logout": elsewhere("logout"),
		"volume": rooted(volume.Command), "cp": rooted(cp.Command),
		"serve": elsewhere("serve"),
	}
	// Docker's management commands name the same commands: container stop, image tag, ...
	for group, names := range map[string]string{
		"container": "attach commit cp create diff exec export inspect kill logs pause port rename restart rm run start stats stop top unpause wait",
		"image":     "build history import inspect load pull push save tag",
	} {
		for _, n := range strings.Fields(names) {
			if cmd, ok := commands[n]; ok {
				commands[group+" "+n] = cmd
			}
		}
	}
	return commands
}

// rooted adapts a command of a mini-docker/command package.
func rooted(cmd func(root string, args []string) error) func(*ctx, []string) error {
	return func(c *ctx, args []string) error { return cmd(c.root, args) }
}

// elsewhere runs a command that lives in a program of its own beside
// mini-docker, as git runs git-NAME and Docker's CLI its docker-buildx
// plugin: serve in mini-docker-serve; in mini-docker-build the commands
// that read Dockerfile instructions (build, commit, import) and those
// that talk to registries or move images in archives (push, login,
// logout, save, load). Each links packages no other command needs
// (buildkit's Dockerfile parser and protobuf, the registry client and
// net/http, the API server), which would otherwise be loaded and
// initialised at every start of this program, `run` too. The program
// replaces this one (execve(2)): same process, arguments, terminal,
// signals and exit code; the state root goes in $MINI_DOCKER_ROOT.
func elsewhere(name string) func(*ctx, []string) error {
	prog := "mini-docker-build"
	if name == "serve" {
		prog = "mini-docker-serve"
	}
	return func(c *ctx, args []string) error {
		t, err := toolkit.SelfTools()
		if err != nil {
			return err
		}
		p, err := t.Path(prog, name)
		if err != nil {
			return cli.WithCode(err, 125)
		}
		argv := []string{prog, name}
		// The root this command line chose (--root, else the variable),
		// in place of any MINI_DOCKER_ROOT we were given: with the
		// variable twice, getenv(3) and Go's os.Getenv read the first.
		env := []string{"MINI_DOCKER_ROOT=" + c.root}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "MINI_DOCKER_ROOT=") {
				env = append(env, kv)
			}
		}
		return cli.WithCode(fmt.Errorf("run %s: %w", p, syscall.Exec(p, append(argv, args...), env)), 125)
	}
}
