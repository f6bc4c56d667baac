package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/compare"
	"mini-docker/mini-docker/spec"
)

const compareUsage = `Usage: mini-docker compare [--json] [RUN FLAGS] IMAGE

Run the same container under docker run and under mini-docker run (same
flags), with a probe bind-mounted in that prints what the container sees:
capabilities, seccomp, ids, mounts, /dev, masked paths, cgroup limits,
namespaces, links, risky system calls. Prints both side by side:

  ✓  the same value
  ~  differs only where it must (container IDs, addresses, layer paths)
  ✗  a real difference: mini-docker does not do what Docker does

and how long each run took. Exit status 1 when any row is ✗.

Options:
      --json           print the report as JSON (values uncut)
      --explain        print the commands compare runs (to stderr) before running them
      --docker PATH    the docker CLI (default: docker on PATH)
      --probe PATH     the probe binary (default: probe next to mini-docker)
  RUN FLAGS            any of mini-docker run's flags (-m, --cpus, --pids-limit,
                       --cap-add, --cap-drop, --privileged, --security-opt,
                       --read-only, -u, --network, -e, -w, -h, ...)

Examples:
  mini-docker compare debian:bookworm
  mini-docker compare --cap-drop ALL --cap-add NET_BIND_SERVICE debian:bookworm
  mini-docker compare --json -m 64m --cpus 0.5 --pids-limit 50 debian:bookworm
`

// compareRefused are run flags that make no sense for a comparison: the
// probe runs in the foreground, once, and its output is read.
var compareRefused = map[string]bool{
	"-d": true, "--detach": true, "-t": true, "--tty": true, "-i": true,
	"--interactive": true, "--name": true, "--rm": true, "-p": true, "--publish": true,
	"--entrypoint": true,
}

func cmdCompare(c *ctx, args []string) error {
	o := compare.Options{Root: c.root}
	asJSON, rest, help, err := compare.SplitFlags(&o, args)
	if help {
		fmt.Print(compareUsage)
		return nil
	}
	if err != nil {
		return err
	}
	// docker run's own parser finds where the flags end and IMAGE starts.
	var ro spec.Options
	f, _ := spec.RunFlags(&ro)
	if err := f.Parse(rest); err != nil {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker compare --help'"}
	}
	if f.NArg() == 0 {
		return cli.Usagef("mini-docker compare", "\"mini-docker compare\" requires an IMAGE")
	}
	if f.NArg() > 1 {
		return cli.Usagef("mini-docker compare", "no COMMAND after IMAGE: the command is the probe")
	}
	o.Image = f.Arg(0)
	o.RunFlags = rest[:len(rest)-1]
	for _, a := range o.RunFlags {
		name, _, _ := strings.Cut(a, "=")
		if compareRefused[name] {
			return cli.Usagef("mini-docker compare", "%s cannot be compared: the probe runs once, in the foreground", name)
		}
	}

	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find mini-docker's own binary: %w", err)
	}
	o.MiniDocker = self
	if o.Probe == "" {
		o.Probe = filepath.Join(filepath.Dir(self), "probe")
	}
	if _, err := os.Stat(o.Probe); err != nil {
		return cli.WithHint(fmt.Errorf("the probe: %w", err), "build it with make (bin/probe), or pass --probe PATH")
	}

	r, err := compare.Run(o)
	if errors.Is(err, compare.ErrNoDocker) {
		return cli.WithHint(err, "start Docker's engine (scripts/dockerd starts it without touching the host's network)")
	}
	if err != nil {
		return err
	}
	if asJSON {
		if err := r.WriteJSON(os.Stdout); err != nil {
			return err
		}
	} else {
		r.WriteTable(os.Stdout)
	}
	if r.Differs > 0 {
		return cli.ExitCode(1)
	}
	return nil
}
