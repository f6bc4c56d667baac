package main

import (
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/spec"
)

func cmdExec(c *ctx, args []string) error {
	f := newFlags("exec", "[-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND [ARG...]",
		"Run a command in a running container: in all its namespaces, its cgroup and its root, under the same seccomp filter and capabilities.",
		"mini-docker exec demo ps aux", "mini-docker exec -it demo bash")
	f.SetInterspersed(false)
	var o engine.ExecOptions
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep STDIN open")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a pseudo-TTY")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run the command in the background")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set environment variables")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	f.BoolVar(&o.ToolChain, "tool-chain", false, "run the steps inside the namespaces as the separate tools --explain prints (cgroupctl ... mini-docker __execin, one program each), not in one process")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := spec.CheckEnv(o.Env); err != nil {
		return &cli.Error{Code: cli.ExitToolFailure, Err: err, Hint: "see 'mini-docker exec --help'"}
	}
	if f.NArg() < 2 {
		return cli.Usagef("mini-docker exec", "\"mini-docker exec\" requires at least 2 arguments")
	}
	e, ct, err := openContainer(c, f, f.Arg(0))
	if err != nil {
		return err
	}
	o.Argv = f.Args()[1:]
	code, err := e.Exec(ct, &o)
	if err != nil {
		return cli.WithCode(err, code)
	}
	if code != 0 {
		return cli.ExitCode(code)
	}
	return nil
}
