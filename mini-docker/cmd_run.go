package main

import (
	"errors"
	"fmt"
	"os"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/spec"
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

func cmdRun(c *ctx, args []string) error {
	var o spec.Options
	f, help := spec.RunFlags(&o)
	if err := f.Parse(args); err != nil {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker run --help'"}
	}
	if *help {
		fmt.Printf(runUsage, f.FlagUsages())
		return nil
	}
	if fl := f.Lookup("entrypoint"); fl.Changed {
		v := fl.Value.String()
		o.Entrypoint = &v
	}
	if f.NArg() == 0 {
		return cli.Usagef("mini-docker run", "\"mini-docker run\" requires at least 1 argument")
	}
	o.Image, o.Args = f.Arg(0), f.Args()[1:]
	e, err := engine.NewEngine(c.root)
	if err != nil {
		return err
	}
	if o.Explain {
		e.Explain = explain.New(os.Stderr)
	}
	if o.Timings {
		e.Timings = os.Stderr
	}
	if err := imageops.OpenImages(e); err != nil {
		return runErr(err)
	}
	if err := checkRef(o.Image); err != nil {
		return runErr(err)
	}
	ct, err := e.Create(&o, pullFunc(e, c.root, o.Explain))
	if err != nil {
		return runErr(err)
	}
	code, err := e.Start(ct, engine.Attach{Detach: o.Detach, Stdin: o.Interactive, TTY: o.TTY})
	if err != nil {
		if o.Rm {
			if cur, ferr := e.Store.Load(ct.ID); ferr == nil {
				e.Remove(cur, true)
			}
		}
		return runErr(err)
	}
	if o.Detach {
		fmt.Println(ct.ID)
		return nil
	}
	if code != 0 {
		return cli.ExitCode(code)
	}
	return nil
}

// runErr gives run's failures Docker's exit codes: a chain that failed
// with its own code keeps it (125, 126, 127), everything else is 125.
func runErr(err error) error {
	var ue *spec.UsageError
	if errors.As(err, &ue) {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker run --help'"}
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
