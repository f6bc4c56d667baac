package start

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/attach"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

var attachSpec = command.Spec{
	Name: "attach", Usage: "[OPTIONS] CONTAINER", MinArgs: 1, MaxArgs: 1,
	Summary: "Attach local standard input, output, and error streams to a running container (one started with -d, or by start). ctrl-p ctrl-q detaches and leaves it running.",
	Examples: []string{"mini-docker run -dit --name box debian bash && mini-docker attach box",
		"mini-docker attach --detach-keys ctrl-x,x box", "mini-docker attach --no-stdin box"},
}

// Attach is docker attach: this terminal connected to a running
// container's streams, through its monitor's attach socket.
func Attach(root string, args []string) error {
	f := attachSpec.Flags()
	keys := f.String("detach-keys", "", "override the key sequence for detaching a container (default ctrl-p,ctrl-q)")
	noStdin := f.Bool("no-stdin", false, "do not attach STDIN")
	sigProxy := f.Bool("sig-proxy", true, "proxy all received signals to the process")
	e, err := attachSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	ct, detach, err := target(e, f.Arg(0), *keys)
	if err != nil {
		return err
	}
	switch {
	case ct.State.Paused:
		return cli.Errorf(1, "You cannot attach to a paused container, unpause it first")
	case !ct.State.Running:
		return cli.Errorf(1, "You cannot attach to a stopped container, start it first")
	}
	return attachTo(e, ct, !*noStdin, detach, *sigProxy)
}

// attachTo connects to a running container's monitor; the container's
// exit code is ours, and detaching is exit 1 with Docker's words.
func attachTo(e *engine.Engine, ct *container.Container, withStdin bool, keys []byte, sigProxy bool) error {
	conn, err := attach.Dial(e.Store.Dir(ct.ID))
	if err != nil {
		return cli.Errorf(1, "cannot attach to container %s: no monitor holds its streams (it runs in the foreground of the mini-docker run that started it; run -d or start it to attach)", container.ShortID(ct.ID))
	}
	err = stream(e, ct, conn, withStdin, keys, sigProxy)
	if errors.Is(err, attach.ErrDetached) {
		fmt.Fprintln(os.Stderr, err)
		return cli.ExitCode(1)
	}
	return err
}

// stream copies between this terminal and the container on conn until
// the container ends (its exit code becomes ours, a cli.ExitCode) or the
// user detaches (attach.ErrDetached). Without a terminal, the signals we
// receive go on to the container.
func stream(e *engine.Engine, ct *container.Container, conn net.Conn, withStdin bool, keys []byte, sigProxy bool) error {
	defer conn.Close()
	o := attach.Options{Out: os.Stdout, Err: os.Stderr, TTY: ct.Config.Tty, DetachKeys: keys}
	if withStdin && ct.Config.OpenStdin {
		o.In = os.Stdin
	}
	if sigProxy && !ct.Config.Tty {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		defer signal.Stop(sigs)
		go func() {
			for s := range sigs {
				if cur, err := e.Find(ct.ID); err == nil {
					e.Kill(cur, s.(syscall.Signal))
				}
			}
		}()
	}
	code, err := attach.Stream(conn, o)
	if err == nil && code != 0 {
		return cli.ExitCode(code)
	}
	return err
}
