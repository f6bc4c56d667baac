package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
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

// runFlags defines docker run's flags. It is a plain pflag set, not
// cli.NewFlags, because docker run's -h is --hostname, not --help.
func runFlags(o *engine.Options) (*pflag.FlagSet, *bool) {
	f := pflag.NewFlagSet("mini-docker run", pflag.ContinueOnError)
	f.SetInterspersed(false)
	f.SetOutput(io.Discard)
	help := f.Bool("help", false, "show this help")
	f.BoolVar(&o.Explain, "explain", false, "print the chain as the toolkit's commands (to stderr) while doing it")
	f.BoolVar(&o.Timings, "timings", false, "print how long each stage took (to stderr)")
	f.BoolVar(&o.ToolChain, "tool-chain", false, "run the steps inside the namespaces as the separate tools --explain prints (unshare ... capctl, one program each), not in one process")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run in the background and print the container ID")
	f.StringVar(&o.Name, "name", "", "assign a name to the container")
	f.BoolVar(&o.Rm, "rm", false, "remove the container when it exits")
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep STDIN open")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a pseudo-TTY")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set environment variables (KEY=VALUE, or KEY to copy ours)")
	f.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container host name")
	f.String("entrypoint", "", "overwrite the default ENTRYPOINT of the image")
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount a host folder: HOST:CONTAINER[:ro]")
	f.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish a container's port: [IP:]HOSTPORT:PORT[/udp] (userland forwarder)")
	f.StringVar(&o.Network, "network", "bridge", "network: bridge, none or host")
	f.StringVarP(&o.Memory, "memory", "m", "", "memory limit")
	f.StringVar(&o.MemorySwap, "memory-swap", "", "memory plus swap limit, -1 for unlimited swap")
	f.StringVar(&o.CPUs, "cpus", "", "number of CPUs")
	f.Int64VarP(&o.CPUShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.Int64Var(&o.PidsLimit, "pids-limit", 0, "tune container pids limit (-1 for unlimited)")
	f.StringSliceVar(&o.CapAdd, "cap-add", nil, "add Linux capabilities")
	f.StringSliceVar(&o.CapDrop, "cap-drop", nil, "drop Linux capabilities")
	f.BoolVar(&o.Privileged, "privileged", false, "give extended privileges to this container")
	f.StringArrayVar(&o.SecurityOpt, "security-opt", nil, "security options: seccomp=PROFILE|unconfined, no-new-privileges")
	f.BoolVar(&o.ReadOnly, "read-only", false, "mount the container's root filesystem as read only")
	f.BoolVar(&o.Init, "init", false, "run an init inside the container that forwards signals and reaps processes")
	f.StringVar(&o.Pull, "pull", "missing", "pull image before running: always, missing or never")
	f.StringVar(&o.Platform, "platform", "", "platform (only linux/amd64 here)")
	f.BoolVar(&o.Userns, "userns", false, "run in a new user namespace (root inside maps to us)")
	f.BoolVar(&o.NAT, "nat", false, "turn on outbound NAT and IP forwarding on the host (changes the host's firewall and sysctls)")
	return f, help
}

func cmdRun(c *ctx, args []string) error {
	var o engine.Options
	f, help := runFlags(&o)
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
	if o.NAT {
		return cli.Errorf(cli.ExitToolFailure, "--nat: outbound NAT is not wired into run yet; set it up by hand: vethctl nat add --subnet %s --out IFACE (lesson 05)", engine.DefaultSubnet)
	}
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
	if err := openImages(e); err != nil {
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
	var ue *engine.UsageError
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
