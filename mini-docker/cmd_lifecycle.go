package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/volume/mounts"
)

func open(c *ctx, f *cli.Flags, args []string, name string, n int) (*engine.Engine, error) {
	return command.Open(c.root, f, args, name, n)
}

func cmdStop(c *ctx, args []string) error {
	f := newFlags("stop", "[-t SECONDS] CONTAINER...", "Stop containers: SIGTERM, then SIGKILL after the grace period.", "mini-docker stop -t 1 demo")
	return stopEach(c, f, args, "stop", nil)
}

// stopEach is stop and restart (name): their -t flag, then each
// container stopped and, when then is not nil, then run on the
// container as the stop left it (restart starts it again).
func stopEach(c *ctx, f *cli.Flags, args []string, name string, then func(*engine.Engine, *container.Container) error) error {
	secs := f.IntP("time", "t", 10, "seconds to wait before killing the container")
	e, err := open(c, f, args, name, 1)
	if err != nil {
		return cli.Done(err)
	}
	return eachContainer(e, f.Args(), false, func(ct *container.Container) error {
		if err := e.Stop(ct, grace(f, *secs, ct)); err != nil || then == nil {
			return err
		}
		ct, err := e.Find(ct.ID)
		if err != nil {
			return err
		}
		return then(e, ct)
	})
}

// grace is stop's and restart's wait before SIGKILL: -t when given, else
// the container's own (run --stop-timeout), as docker stop and restart.
func grace(f *cli.Flags, secs int, ct *container.Container) time.Duration {
	if f.Changed("time") {
		return time.Duration(secs) * time.Second
	}
	return ct.StopGrace()
}

func cmdKill(c *ctx, args []string) error {
	f := newFlags("kill", "[-s SIGNAL] CONTAINER...", "Send a signal to containers' PID 1 (default SIGKILL).", "mini-docker kill -s TERM demo")
	sig := f.StringP("signal", "s", "KILL", "signal to send to the container")
	if err := parseArgs(f, args, "kill", 1); err != nil {
		return cli.Done(err)
	}
	s, err := container.ParseSignal(*sig)
	if err != nil {
		return cli.Usagef("mini-docker kill", "%v", err)
	}
	e, err := openEngine(c, f)
	if err != nil {
		return err
	}
	return eachContainer(e, f.Args(), false, func(ct *container.Container) error {
		ct, done := restart.ForKill(e.Store, ct)
		if done {
			return nil
		}
		if err := e.Kill(ct, s); err != nil {
			return err
		}
		if s == syscall.SIGKILL {
			e.WaitExit(ct, 5*time.Second)
		}
		return nil
	})
}

// startAgain starts an existing container detached, as docker start does.
func startAgain(e *engine.Engine, ct *container.Container) error {
	if ct.State.Running {
		return nil
	}
	if err := imageops.OpenImages(e); err != nil {
		return err
	}
	_, err := e.Start(ct, engine.Attach{Detach: true})
	return err
}

func cmdRestart(c *ctx, args []string) error {
	f := newFlags("restart", "[-t SECONDS] CONTAINER...", "Stop and start containers.", "mini-docker restart demo")
	return stopEach(c, f, args, "restart", startAgain)
}

func cmdPause(c *ctx, args []string) error   { return pauseCmd(c, args, true) }
func cmdUnpause(c *ctx, args []string) error { return pauseCmd(c, args, false) }

func pauseCmd(c *ctx, args []string, pause bool) error {
	name := "unpause"
	if pause {
		name = "pause"
	}
	f := newFlags(name, "CONTAINER...", "Freeze (pause) or thaw (unpause) every process of containers, with the freezer cgroup.", "mini-docker "+name+" demo")
	if err := parseArgs(f, args, name, 1); err != nil {
		return cli.Done(err)
	}
	e, err := openEngine(c, f)
	if err != nil {
		return err
	}
	return eachContainer(e, f.Args(), false, func(ct *container.Container) error {
		if pause {
			return e.Pause(ct)
		}
		return e.Unpause(ct)
	})
}

func cmdRm(c *ctx, args []string) error {
	f := newFlags("rm", "[-f] CONTAINER...", "Remove containers, and every mount, cgroup, link, namespace and lease they hold.", "mini-docker rm -f demo")
	force := f.BoolP("force", "f", false, "force the removal of a running container (uses SIGKILL)")
	volumes := f.BoolP("volumes", "v", false, "remove the anonymous volumes of the container")
	e, err := open(c, f, args, "rm", 1)
	if err != nil {
		return cli.Done(err)
	}
	failed := false
	for _, ref := range f.Args() {
		ct, err := e.Store.Find(ref)
		if err != nil {
			var nf *container.ErrNoSuchContainer
			if *force && errors.As(err, &nf) {
				continue // rm -f of what is not there succeeds, as Docker's does
			}
			failed = true
			cli.Report(os.Stderr, tool, err)
			continue
		}
		if err := e.Remove(ct, *force); err != nil {
			failed = true
			cli.Report(os.Stderr, tool, err)
			continue
		}
		if *volumes {
			mounts.RemoveAnonymous(e.Volumes(), e.Store, ct)
		}
		fmt.Println(ref)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

func cmdWait(c *ctx, args []string) error {
	f := newFlags("wait", "CONTAINER...", "Block until containers stop, then print their exit codes.", "mini-docker wait demo")
	e, err := open(c, f, args, "wait", 1)
	if err != nil {
		return cli.Done(err)
	}
	return eachContainer(e, f.Args(), true, func(ct *container.Container) error {
		cur, _ := e.WaitExit(ct, 0)
		fmt.Println(cur.State.ExitCode)
		return nil
	})
}
