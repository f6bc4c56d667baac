package launch

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"mini-docker/mini-docker/engine/pty"
)

// forwarded are the signals Docker's CLI proxies to the container.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// ForwardSignals passes the forwarded signals mini-docker receives on to
// p until the returned function is called.
func ForwardSignals(p *os.Process) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	go func() {
		for s := range sigs {
			p.Signal(s)
		}
	}()
	return func() {
		signal.Stop(sigs) // no sends after it returns: the close ends the goroutine
		close(sigs)
	}
}

// Terminal connects a -t container's pty to its user and returns how to
// restore it once the output is drained. nil is our own terminal
// (pty.Attach on os.Stdin); the API server passes its client's
// connection.
type Terminal func(p *pty.Pty, out io.Writer, withStdin bool) (restore func())

// Foreground waits for cmd, started attached to mini-docker: the
// signals mini-docker receives pass on to it, and with -t (sock not nil)
// the terminal whose master end arrives on sock is connected to term (nil: ours),
// its output copied to out (and our input to it with withStdin).
// running, if not nil, runs once the terminal is connected; drain, if
// not nil, once cmd has ended (Started.Drain). It returns cmd's wait
// status.
func Foreground(cmd *exec.Cmd, sock *os.File, out io.Writer, withStdin bool, term Terminal, running, drain func()) syscall.WaitStatus {
	defer ForwardSignals(cmd.Process)()
	var restore func()
	if sock != nil {
		master, err := pty.ReceiveConsole(sock)
		sock.Close()
		if err == nil {
			p := &pty.Pty{Master: master}
			defer p.Close()
			if term == nil {
				term = func(p *pty.Pty, out io.Writer, withStdin bool) func() { return p.Attach(os.Stdin, out, withStdin) }
			}
			restore = term(p, out, withStdin)
		}
	}
	if running != nil {
		running()
	}
	cmd.Wait()
	if drain != nil {
		drain()
	}
	if restore != nil {
		restore()
	}
	return cmd.ProcessState.Sys().(syscall.WaitStatus)
}
