// Package ociruntime is an OCI runtime with runc's command line: it
// reads a bundle (config.json, the runtime spec's specs.Spec, and the
// root filesystem it names) and makes the container with the toolkit's
// primitives, as lessons 01-07 teach them: the namespaces of unshare
// (clone flags, setns for a path), the mounts, masked and read-only
// paths and pivot_root of chroot/jail, the group and its limits of
// cgroupctl/cgroup, the capability sets and user of capctl/caps, the
// filter of seccompctl/seccomp.
//
// The life of a container is runc's (the runtime spec's lifecycle):
//
//	create --bundle B ID   a process is cloned into the new namespaces and
//	                       the group, builds the root and waits, blocked
//	                       opening ROOT/ID/exec.fifo for writing ("created")
//	start ID               opens the fifo for reading: the process goes on,
//	                       execs the command ("running")
//	state ID               the state JSON; "stopped" once the process ended
//	kill ID [SIGNAL]       a signal to it (--all: to its whole group)
//	delete [--force] ID    the group and the state go
//
// so that containerd's runc shim, and through it Docker, can drive it:
// the shim calls the binary with runc's flags (--root, --log, --log-format
// json, create --bundle --pid-file --console-socket, exec --process
// --detach --pid-file, ...). `mini-docker runtime ...` is the command;
// the same binary named mini-docker-runtime (a link, as `make build`
// makes) is the runtime itself, for dockerd --add-runtime.
//
// Lesson 15 (lessons/15-oci-runtime.md) teaches it.
package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"mini-docker/internal/cli"
)

// Tool is the command name in messages.
const Tool = "mini-docker runtime"

// Runtime is the runtime's global options, as runc's.
type Runtime struct {
	Root      string // state directory (--root)
	Log       string // where errors go besides stderr (--log)
	LogFormat string // text or json (--log-format)
}

const usage = `Usage: mini-docker runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] ID

An OCI runtime with runc's command line: it runs an OCI bundle
(config.json and its root filesystem) with the toolkit's primitives.

Commands:
  spec                          write a default config.json (runc spec's)
  create --bundle DIR [--pid-file F] [--console-socket S] ID
                                make the container; its process waits for start
  start ID                      run the command of a created container
  run --bundle DIR [--detach] ID
                                create and start, and wait (unless --detach)
  state ID                      the runtime spec's state JSON
  kill [--all] ID [SIGNAL]      send a signal (default SIGTERM)
  delete [--force] ID           remove a stopped container (--force: kill it first)
  exec [--process F] [--detach] [--pid-file F] ID [CMD...]
                                run another process in a running container
  ps ID                         the container's processes
  list                          every container under --root

Global options:
  --root DIR          state directory (default /run/mini-docker-runtime)
  --log FILE          also write errors to FILE
  --log-format F      text or json (what containerd's shim reads)
  --systemd-cgroup    refused: cgroups are made by cgroupfs paths only

Examples:
  mkdir -p b/rootfs && tar -C b/rootfs -xf rootfs.tar && cd b && mini-docker runtime spec
  mini-docker runtime run --bundle b demo
  dockerd --add-runtime mini=/usr/local/bin/mini-docker-runtime
`

// Main runs the runtime's command line (args after "runtime"). Errors
// are reported as runc does: on stderr and, with --log, in the log
// file (one JSON object per line with --log-format json, which is where
// containerd's shim looks for the reason a create failed).
func Main(args []string) error {
	r := &Runtime{Root: DefaultRoot, LogFormat: "text"}
	args, err := r.globalFlags(args)
	if err != nil || args == nil {
		return err
	}
	err = r.dispatch(args)
	if err != nil && r.Log != "" {
		r.logError(err)
	}
	return err
}

// globalFlags reads runc's global options; nil args means help was shown.
func (r *Runtime) globalFlags(args []string) ([]string, error) {
	f := pflag.NewFlagSet(Tool, pflag.ContinueOnError)
	f.SetInterspersed(false)
	f.SetOutput(io.Discard)
	f.StringVar(&r.Root, "root", r.Root, "")
	f.StringVar(&r.Log, "log", "", "")
	f.StringVar(&r.LogFormat, "log-format", "text", "")
	systemd := f.Bool("systemd-cgroup", false, "")
	f.Bool("debug", false, "")
	help := f.BoolP("help", "h", false, "")
	version := f.BoolP("version", "v", false, "")
	if err := f.Parse(args); err != nil {
		return nil, cli.Usagef(Tool, "%v", err)
	}
	switch {
	case *help:
		fmt.Print(usage)
		return nil, nil
	case *version:
		fmt.Printf("mini-docker runtime version %s\nspec: 1.3.0\n", cli.Version)
		return nil, nil
	case *systemd:
		return nil, cli.Usagef(Tool, "--systemd-cgroup: this runtime makes cgroups by path (cgroupfs) only; start dockerd with --exec-opt native.cgroupdriver=cgroupfs")
	case r.LogFormat != "text" && r.LogFormat != "json":
		return nil, cli.Usagef(Tool, "--log-format %q: want text or json", r.LogFormat)
	case f.NArg() == 0:
		fmt.Fprint(os.Stderr, usage)
		return nil, cli.Usagef(Tool, "no command given")
	}
	return f.Args(), nil
}

// commands are the runtime's commands, by runc's names.
var commands = map[string]func(r *Runtime, args []string) error{
	"spec": cmdSpec, "create": cmdCreate, "start": cmdStart, "run": cmdRun,
	"state": cmdState, "kill": cmdKill, "delete": cmdDelete, "exec": cmdExec,
	"ps": cmdPs, "list": cmdList, initArg: cmdInit, execInitArg: cmdExecInit,
}

func (r *Runtime) dispatch(args []string) error {
	cmd, ok := commands[args[0]]
	if !ok {
		return cli.Usagef(Tool, "unknown command %q", args[0])
	}
	return cmd(r, args[1:])
}

// logError appends err to the --log file in its format.
func (r *Runtime) logError(err error) {
	var c cli.ExitCode
	if errors.As(err, &c) {
		return
	}
	f, ferr := os.OpenFile(r.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if ferr != nil {
		return
	}
	defer f.Close()
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if r.LogFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": "error", "msg": msg, "time": time.Now().UTC().Format(time.RFC3339Nano)})
		fmt.Fprintf(f, "%s\n", b)
		return
	}
	fmt.Fprintf(f, "%s level=error msg=%q\n", time.Now().UTC().Format(time.RFC3339), msg)
}

// flags is a sub-command's flag set: flags may come before or after the
// ID, as runc takes them.
func flags(name string) *pflag.FlagSet {
	f := pflag.NewFlagSet(Tool+" "+name, pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	return f
}

// parseID parses a sub-command's flags and returns its one ID.
func parseID(f *pflag.FlagSet, args []string) (string, error) {
	if err := f.Parse(args); err != nil {
		return "", cli.Usagef(Tool, "%s: %v", f.Name(), err)
	}
	if f.NArg() != 1 {
		return "", cli.Usagef(Tool, "%s: want exactly one container ID, got %d arguments", f.Name(), f.NArg())
	}
	return f.Arg(0), checkID(f.Arg(0))
}
