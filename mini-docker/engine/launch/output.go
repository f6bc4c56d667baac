package launch

import (
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"mini-docker/mini-docker/engine/pty"
)

// A container's output is copied here, not by exec.Cmd: a pipe a
// container writes to is read until EOF, which comes when every process
// holding it has closed it. The kernel ends the rest of a PID namespace
// with its first process, so that is at once; but a container may pass
// its stdout to another container (over a socket in a shared volume)
// that holds it. Once the first process has ended (drain), the copy
// goes on while output comes, however slowly its reader takes it (run |
// less), and stops when none has come for pty.OutputGrace: the end is
// recorded, as containerd's shim reports it when it reaps the process.

// output is one pipe of a container's output and its copy.
type output struct {
	r, w   *os.File // w: the child's end, closed here once it has started
	exited atomic.Bool
	done   chan struct{}
}

// outputs are a container's stdout and stderr pipes.
type outputs []*output

// pipeOutputs gives cmd its stdout and stderr: a file as it is, any
// other writer through a pipe that an output copies into it.
func pipeOutputs(cmd *exec.Cmd, stdout, stderr io.Writer) (outputs, error) {
	var outs outputs
	for _, s := range []struct {
		w   io.Writer
		dst *io.Writer
	}{{stdout, &cmd.Stdout}, {stderr, &cmd.Stderr}} {
		if f, ok := s.w.(*os.File); ok || s.w == nil {
			if ok {
				*s.dst = f
			}
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			outs.close()
			return nil, err
		}
		o := &output{r: r, w: w, done: make(chan struct{})}
		go o.copy(s.w)
		*s.dst = w
		outs = append(outs, o)
	}
	return outs, nil
}

// copy copies the pipe into w until EOF, an error, or, once the process
// has ended, OutputGrace without output. Its read end is closed then, as
// exec.Cmd's copy closes it: a reader gone (run | head) makes the
// container's next write fail (EPIPE) instead of blocking on a full pipe.
func (o *output) copy(w io.Writer) {
	defer close(o.done)
	defer o.r.Close()
	buf := make([]byte, 32<<10)
	for {
		if o.exited.Load() {
			o.r.SetReadDeadline(time.Now().Add(pty.OutputGrace))
		}
		n, err := o.r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// started closes this process's copies of the child's ends, once the
// child has its own: EOF comes when the container's processes close them.
func (outs outputs) started() {
	for _, o := range outs {
		o.w.Close()
	}
}

// drain waits for the output once the process has ended: until EOF, or
// until none has come for OutputGrace.
func (outs outputs) drain() {
	for _, o := range outs {
		o.exited.Store(true)
		o.r.SetReadDeadline(time.Now().Add(pty.OutputGrace)) // wakes a Read begun before the end
	}
	for _, o := range outs {
		<-o.done
	}
}

// close gives up both ends (the child never started).
func (outs outputs) close() {
	for _, o := range outs {
		o.w.Close()
		o.r.Close()
	}
}
