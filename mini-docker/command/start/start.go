package start

import (
	"errors"
	"net"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/attach"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/pty"
	"mini-docker/mini-docker/engine/sweep"
	"mini-docker/mini-docker/imageops"
)

var startSpec = command.Spec{
	Name: "start", Usage: "[-a] [-i] CONTAINER...", MinArgs: 1,
	Summary:  "Start one or more stopped containers. With -a, attach to its output (and with -i its input) as if it ran in the foreground; ctrl-p ctrl-q detaches and leaves it running.",
	Examples: []string{"mini-docker start demo", "mini-docker create -it --name box debian bash && mini-docker start -ai box"},
}

// Start is docker start: each container started in the background
// (its monitor holds its streams), or with -a one container whose
// output this command shows (-i: and gets its input) until it ends,
// its exit code ours, or until the user detaches.
func Start(root string, args []string) error {
	f := startSpec.Flags()
	attached := f.BoolP("attach", "a", false, "attach STDOUT/STDERR and forward signals")
	interactive := f.BoolP("interactive", "i", false, "attach the container's STDIN")
	keys := f.String("detach-keys", "", "override the key sequence for detaching a container (default ctrl-p,ctrl-q)")
	e, err := startSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	if err := imageops.OpenImages(e); err != nil {
		return err
	}
	// A run killed right after its early start may have left the group
	// of the container it recorded: its next start would find it there.
	sweep.EarlyGroups(e)
	if !*attached && !*interactive {
		return command.Each(e, f.Args(), false, func(ct *container.Container) error {
			_, err := e.Start(ct, engine.Attach{Detach: true})
			return err
		})
	}
	if f.NArg() > 1 {
		return cli.Errorf(1, "you cannot start and attach multiple containers at once")
	}
	ct, detach, err := target(e, f.Arg(0), *keys)
	if err != nil {
		return err
	}
	if ct.State.Running {
		// Docker attaches to a container that already runs.
		return attachTo(e, ct, *interactive, detach, true)
	}
	ours, theirs, err := pty.SocketPair()
	if err != nil {
		return err
	}
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		theirs.Close()
		return err
	}
	_, err = e.Start(ct, engine.Attach{Detach: true, Client: theirs})
	theirs.Close()
	if err != nil {
		conn.Close()
		return RunError(err)
	}
	err = stream(e, ct, conn, *interactive, detach, true)
	if errors.Is(err, attach.ErrDetached) {
		return nil // start -a: detaching is a success
	}
	return err
}

// target finds the container attach and start -a connect to, and reads
// the detach keys (--detach-keys) they answer to.
func target(e *engine.Engine, ref, keys string) (*container.Container, []byte, error) {
	ct, err := command.Find(e, ref)
	if err != nil {
		return nil, nil, err
	}
	detach, err := detachKeys(keys)
	return ct, detach, err
}

// detachKeys reads --detach-keys (empty: Docker's ctrl-p,ctrl-q).
func detachKeys(s string) ([]byte, error) {
	if s == "" {
		s = attach.DefaultDetachKeys
	}
	k, err := attach.ParseDetachKeys(s)
	if err != nil {
		return nil, cli.WithCode(err, 1)
	}
	return k, nil
}
