// Package start holds the commands that start a container and connect to
// its streams, as Docker's: run (create, then start attached), create,
// start [-a] [-i] and attach. A detached container's streams are held
// by its monitor and reached through package attach.
package start

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/health"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/monitor"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/mounts"
	"mini-docker/pull/reference"
)

const runUsage = `Usage: mini-docker run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image, as docker run does: pull the
image when missing, mount its layers with overlay, make the cgroup, the
network namespace and its veth, then exec the chain
unshare → cgroupctl exec → chroot --pivot → seccompctl → capctl → COMMAND.

Options:
%s
Examples:
  mini-docker run debian echo hello world
  mini-docker run -d --name demo debian sleep 300
  mini-docker run --rm -it debian bash
  mini-docker run --rm -m 32m --cpus 0.5 --pids-limit 100 debian cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  mini-docker run --rm -p 127.0.0.1:8080:80 -d debian python3 -m http.server 80
  mini-docker run --explain --rm --network none debian true
`

// Run is docker run: create, then start, attached unless -d.
func Run(root string, args []string) error {
	go warmJSON()
	o, err := parse("run", runUsage, args)
	if o == nil || err != nil {
		return err
	}
	// A closed pipe on our stdout or stderr (run ... | head) must not end
	// us: Go's runtime kills a program whose write to descriptor 1 or 2
	// fails with EPIPE unless it asks for SIGPIPE itself, and a foreground
	// run is its container's monitor, so the container would die with it
	// half recorded (--rm left undone). Asked for, the write fails
	// instead: the container's output copy stops and closes its pipe, so
	// the container's next write gets its own SIGPIPE, as in a shell
	// pipeline, and the run records its end as usual. The disposition is
	// reset to the default in every child (Go resets caught signals at
	// fork), so containers see SIGPIPE as they would anywhere.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if !o.TTY {
		// Without a terminal to answer keystrokes, run's own threads
		// wait their turn instead of preempting each other (the
		// container's processes keep the default policy).
		launch.BatchThreads()
	}
	go checkPidfd()
	e, ct, done, err := create(root, o, true)
	defer done() // what was started early and not used
	if err != nil {
		return RunError(err)
	}
	if c, ok := e.Timings.(*stageClock); ok {
		defer c.exit()
	}
	var wake chan os.Signal
	if !o.Detach && !ct.HostConfig.RestartPolicy.IsNone() {
		wake = restart.Wake()
	}
	code, err := e.Start(ct, engine.Attach{Detach: o.Detach, Stdin: o.Interactive, TTY: o.TTY})
	if err != nil {
		if o.Rm {
			// --rm takes the container's anonymous volumes with it, as
			// when it ends (Engine.Finish), even when it never started.
			if cur, ferr := e.Store.Load(ct.ID); ferr == nil && e.Remove(cur, true) == nil {
				mounts.RemoveAnonymous(e.Volumes(), e.Store, cur)
			}
		}
		return RunError(err)
	}
	if o.Detach {
		fmt.Println(ct.ID)
		return nil
	}
	// --restart in the foreground: as Docker's CLI, run returns the
	// first exit's code, and a monitor takes the container on.
	if wake != nil {
		if _, err := restart.After(e.Store, ct.ID, wake, monitor.StartAgain(e)); err != nil {
			return RunError(err)
		}
	}
	if code != 0 {
		return cli.ExitCode(code)
	}
	return nil
}

// parse reads run's (and create's) flags and arguments; nil options
// and no error after --help.
func parse(name, usage string, args []string) (*spec.Options, error) {
	var o spec.Options
	f, help := spec.RunFlags(&o)
	if err := f.Parse(args); err != nil {
		return nil, &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker " + name + " --help'"}
	}
	if *help {
		fmt.Printf(usage, f.FlagUsages())
		return nil, nil
	}
	if fl := f.Lookup("entrypoint"); fl.Changed {
		v := fl.Value.String()
		o.Entrypoint = &v
	}
	if f.NArg() == 0 {
		return nil, cli.Usagef("mini-docker "+name, "\"mini-docker %s\" requires at least 1 argument", name)
	}
	o.Image, o.Args = f.Arg(0), f.Args()[1:]
	return &o, nil
}

// create opens the engine and records the container o describes,
// pulling its image when needed.
func create(root string, o *spec.Options, run bool) (*engine.Engine, *container.Container, func(), error) {
	e, err := engine.NewEngine(root)
	if err != nil {
		return nil, nil, func() {}, err
	}
	e.Health = health.Monitor // a foreground run checks its container itself
	if o.Explain {
		e.Explain = explain.New(os.Stderr)
	}
	if o.Timings {
		e.Timings = &stageClock{w: os.Stderr}
		if d, ok := startup(); ok {
			launch.Stage(e.Timings, "start-up", time.Now().Add(-d))
		}
	}
	done := func() {}
	if run {
		done = prestart(e, o)
	}
	if err := imageops.OpenImages(e); err != nil {
		return nil, nil, done, err
	}
	if _, err := reference.Parse(o.Image); err != nil {
		return nil, nil, done, err
	}
	ct, err := e.Create(o, PullFunc(e, root, o.Explain))
	for _, w := range o.Warnings {
		fmt.Fprintln(os.Stderr, "WARNING:", w) // as docker's CLI prints the daemon's
	}
	return e, ct, done, err
}

// RunError gives run's failures Docker's exit codes: a chain that failed
// with its own code keeps it (125, 126, 127), everything else is 125.
func RunError(err error) error {
	var ue *spec.UsageError
	if errors.As(err, &ue) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker run --help'"}
	}
	var de *spec.DeviceError
	if errors.As(err, &de) && errors.Is(err, fs.ErrNotExist) {
		// Docker's CLI gives a start error that says "no such file or
		// directory" the exit code of a missing command; "not a device
		// node" (a regular file) is 125, as any other.
		return &cli.Error{Code: cli.ExitNotFound, Err: err}
	}
	var ce engine.ChainExit
	if errors.As(err, &ce) {
		return cli.ExitCode(ce.ExitCode())
	}
	var ec cli.ExitCode
	if errors.As(err, &ec) {
		return ec
	}
	var te *engine.ToolError
	if errors.As(err, &te) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: te.Hint()}
	}
	var mt *engine.MissingToolError
	if errors.As(err, &mt) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "build the toolkit: make build (mini-docker runs the tools next to its own executable)"}
	}
	var ni *engine.ImageNotFoundError
	if errors.As(err, &ni) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "pull it first (mini-docker pull), or drop --pull never"}
	}
	var nu *container.ErrNameInUse
	if errors.As(err, &nu) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err}
	}
	return cli.WithCode(err, cli.ExitToolFailure)
}

// PullFunc runs the pull tool for run, its output on our stderr as
// docker run shows the pull progress.
func PullFunc(e *engine.Engine, root string, explainOn bool) engine.PullFunc {
	return func(ref string) error {
		p, err := e.Tools.Path("pull", "pull")
		if err != nil {
			return err
		}
		argv := []string{p, "--implicit", "--root", root}
		if explainOn {
			argv = append(argv, "--explain")
		}
		argv = append(argv, ref)
		e.Explain.Argv(argv...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		EndsWithUs(cmd)
		return cli.ChildExit("pull", cmd.Run()) // pull printed why, unless a signal ended it
	}
}

// EndsWithUs makes the kernel send SIGTERM to the child when we die
// (prctl(2) PR_SET_PDEATHSIG, set between fork and exec): a killed
// `mini-docker pull` must not leave its pull running on. SIGTERM, not
// SIGKILL, so that pull removes its half-unpacked layer as on Ctrl-C.
// The signal follows the thread that forked, and Go never ends a thread
// it did not lock, so the process's death is what sends it.
func EndsWithUs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// checkPidfd has Go's os package check, once per process, that pidfds
// work, which it does at the first process it starts: a clone of a
// child that exits at once (os.checkClonePidfd), some 0.3 ms. Done on
// another thread as run begins (os.FindProcess checks too), it is not in
// the way of the container's own clone.
func checkPidfd() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}

// warmJSON has encoding/json build its coders for the types a run reads
// and writes first, which it does at a type's first use: 0.6 ms for the
// container's state, 0.3 ms for the image's index, manifest and config
// on the bench machine. Built on the other CPU while the flags are read,
// the image lookup and the state's first save find them.
func warmJSON() {
	json.Marshal(&container.Container{})
	json.Marshal(&ocispec.Index{})
	json.Marshal(&ocispec.Manifest{})
	json.Marshal(&ocispec.Image{})
}
