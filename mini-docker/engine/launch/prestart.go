package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"mini-docker/mini-docker/container"
)

// Started early.
//
// A Go program's start costs milliseconds (its runtime, its first pages),
// and mini-docker-inside is the second Go program of every run. A
// foreground run therefore starts it first, as soon as its flags are
// read (Prestart): the child's runtime starts on the other CPU while
// this process records the container, mounts its root and makes its
// network, and the child then waits on the plan's pipe. Launch sends it
// the plan with what the child could not be given at its clone: the
// environment, and the network namespace, which it joins itself before
// anything else (it is still root in the host's user namespace). The
// clone is the one launchInside makes, into the cgroup2 group made early
// (cgroup.CreateEarly), with the same namespaces; a run whose plan wants
// what a clone must give (a user namespace, a terminal) drops the early
// child and launches as usual. Nothing of the container runs before the
// plan comes: the child only reads.

// Prestarted is mini-docker-inside started before its plan exists.
type Prestarted struct {
	l        *insideLaunch
	plan     *os.File      // write end of the plan's pipe
	filter   *filterPipe   // the seccomp filter's pipe
	out, err *lateWriter   // the container's stdout and stderr, bound by Launch
	cgroupV2 string        // the group it was cloned into ("" = none)
	grouped  chan struct{} // closed once first has made the group (or failed)
	ready    chan struct{}
	failed   error // why it did not start (read once ready is closed)
	done     bool  // launched or dropped
}

// ErrNotPrestartable says the early child cannot become this container:
// it did not start, or the plan needs another clone.
var ErrNotPrestartable = errors.New("the plan needs another clone than the early one")

// Prestart starts program (mini-docker-inside) with the clone of a
// container's first process, into the cgroup2 directory that first
// makes (if any), its stdin stdin (nil: /dev/null), waiting for its
// plan. It returns at once: first, the clone and the child's exec happen
// on a thread of their own meanwhile (Wait waits for them).
func Prestart(program string, stdin *os.File, first func() (cgroupV2 string, err error)) *Prestarted {
	p := &Prestarted{out: newLateWriter(), err: newLateWriter(), grouped: make(chan struct{}), ready: make(chan struct{})}
	go func() {
		defer close(p.ready)
		cg, err := first()
		p.cgroupV2, p.failed = cg, err
		close(p.grouped)
		if err == nil {
			p.failed = p.start(program, stdin)
		}
	}()
	runtime.Gosched()
	return p
}

// WaitGroup waits until the early child's cgroup is made (or failed to
// be): the run's cgroup step takes it over meanwhile, while the clone
// goes on.
func (p *Prestarted) WaitGroup() {
	if p != nil {
		<-p.grouped
	}
}

// Wait waits until the early child has started or failed to.
func (p *Prestarted) Wait() {
	if p != nil {
		<-p.ready
	}
}

func (p *Prestarted) start(program string, stdin *os.File) error {
	planR, planW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer planR.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		planW.Close()
		return err
	}
	defer statusW.Close()
	p.l, p.plan = &insideLaunch{status: statusR}, planW
	cmd, closeProg, err := insideCmd(program, planR, statusW)
	if err != nil {
		p.closePipes()
		return err
	}
	defer closeProg()
	cmd.Env = []string{} // the container's comes with the plan
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if p.l.outs, err = pipeOutputs(cmd, p.out, p.err); err != nil {
		p.closePipes()
		return err
	}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL, Setpgid: true}
	closeGroup, err := intoCgroup(attr, p.cgroupV2)
	if err != nil {
		p.closePipes()
		p.l.outs.close()
		return err
	}
	defer closeGroup()
	cmd.SysProcAttr = attr
	if p.filter, err = newFilterPipe(cmd, &container.Inside{}); err != nil {
		p.closePipes()
		p.l.outs.close()
		return err
	}
	p.l.cmd, p.l.start = cmd, time.Now()
	if err := startWatched(cmd, ""); err != nil {
		p.filter.send(nil, false)
		p.closePipes()
		p.l.outs.close()
		return err
	}
	p.l.outs.started()
	p.filter.r.Close() // the child has its own
	return nil
}

// Launch hands c's plan to the early child, which becomes c's first
// process, with stdout and stderr as the container's output. It fails
// with ErrNotPrestartable (the child left waiting: Drop it) when c's plan
// needs another clone.
func (p *Prestarted) Launch(c *container.Container, stdout, stderr io.Writer) (*Started, error) {
	if p.Wait(); p == nil || p.done || p.failed != nil {
		return nil, ErrNotPrestartable
	}
	in := c.Runtime.Inside
	if in == nil || c.Runtime.ToolChain || in.Userns || in.Console || in.CgroupV2 != p.cgroupV2 {
		return nil, ErrNotPrestartable
	}
	p.done = true
	sent := *in
	sent.Prestarted, sent.Env = true, c.Runtime.Env
	b, err := json.Marshal(&sent)
	if err == nil {
		_, err = p.plan.Write(b) // a few KiB: fits the pipe
	}
	p.plan.Close()
	p.out.bind(stdout)
	p.err.bind(stderr)
	p.filter.send(in, err == nil)
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("pass the plan to the container's process: %w", err)
	}
	return p.l.started(), nil
}

// Drop ends the early child unless Launch gave it its plan.
func (p *Prestarted) Drop() {
	if p.Wait(); p == nil || p.done {
		return
	}
	p.done = true
	p.out.bind(io.Discard)
	p.err.bind(io.Discard)
	if p.failed != nil {
		return
	}
	p.filter.send(nil, false)
	p.plan.Close()
	p.kill()
}

// kill ends the child and waits for it (and for its output's copies).
func (p *Prestarted) kill() {
	p.l.cmd.Process.Kill()
	p.l.cmd.Wait()
	p.l.outs.drain()
	p.l.close()
}

func (p *Prestarted) closePipes() {
	p.plan.Close()
	p.l.close()
}

// lateWriter is a writer whose destination comes later: the copy of the
// early child's output waits for it (the pipe holds what the child
// writes meanwhile; it writes only once it has its plan).
type lateWriter struct {
	to chan io.Writer
	w  io.Writer
}

func newLateWriter() *lateWriter { return &lateWriter{to: make(chan io.Writer, 1)} }

func (l *lateWriter) bind(w io.Writer) { l.to <- w }

func (l *lateWriter) Write(b []byte) (int, error) {
	if l.w == nil {
		l.w = <-l.to
	}
	return l.w.Write(b)
}
