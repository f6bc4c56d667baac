package engine

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/explain"
	"mini-docker/internal/mountinfo"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/mini-docker/initlayer"
)

// Engine runs and manages containers under one state root.
type Engine struct {
	Root    string
	Tools   Tools
	Store   *container.Store
	Images  ImageStore
	Explain *explain.Printer
	Stdout  io.Writer
	Stderr  io.Writer
	// Stdin is what -i connects to a foreground container or exec: our
	// own (os.Stdin), or the API server's client through a pipe.
	Stdin *os.File
	// Terminal, when set, connects a -t container's pty in place of our
	// own terminal (the API server copies it to and from its client).
	Terminal launch.Terminal
	// Timings, when set, receives one line per stage of a run.
	Timings io.Writer
	// Health, when set, checks a foreground container while it runs, as
	// the monitor checks a detached one (package health's Monitor, which
	// imports this package: run sets it).
	Health func(e *Engine, id string, pid int, stop <-chan struct{}) <-chan struct{}
	// Prestarted, when set, is the first process of the container that
	// Create makes next, started early (launch.Prestart, by a foreground
	// run) into the cgroup made early for the ID NextID.
	Prestarted *launch.Prestarted
	NextID     string
}

// NewEngine returns an Engine on state root root, with the tools next to
// the running executable.
func NewEngine(root string) (*Engine, error) {
	t, err := toolkit.SelfTools()
	if err != nil {
		return nil, err
	}
	return &Engine{Root: root, Tools: t, Store: &container.Store{Root: root},
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin}, nil
}

// Refresh reconciles c's recorded state with the processes that really
// exist, and releases what a dead container left behind. This is the
// crash recovery: when mini-docker or a monitor was SIGKILLed, nobody
// recorded the container's end, so the next command to look does.
func (e *Engine) Refresh(c *container.Container) (*container.Container, error) {
	if !c.State.Running && c.State.Status != container.Created {
		if !c.Runtime.Released && !monitorAlive(c) {
			return e.releaseLocked(c)
		}
		return c, nil
	}
	if monitorAlive(c) {
		return c, nil
	}
	if c.State.Status == container.Created {
		// A run died while setting up: undo what it recorded.
		if c.Runtime.Released {
			return c, nil
		}
		return e.releaseLocked(c)
	}
	c, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if c.State.Running && !monitorAlive(c) { // running, paused or restarting
		// The monitor was killed, and the container with it: its first
		// process dies by PR_SET_PDEATHSIG (SIGKILL). If it still runs (the
		// signal not yet delivered, or a container of an older mini-docker),
		// it is killed now, as containerd kills a container whose shim
		// died: nobody could record its end otherwise. Either way it ended
		// by SIGKILL, 128+9, which is what containerd records too.
		if container.Alive(c.State.Pid, c.Runtime.PidStart) {
			if c.State.Paused {
				e.freezeGroup(c, false) // a frozen process dies only once thawed
			}
			syscall.Kill(c.State.Pid, syscall.SIGKILL)
			for deadline := time.Now().Add(10 * time.Second); container.Alive(c.State.Pid, c.Runtime.PidStart) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		}
		c.State.Status = container.Exited
		c.State.Running, c.State.Paused, c.State.Restarting = false, false, false
		c.State.Pid = 0
		c.State.ExitCode = 128 + int(syscall.SIGKILL)
		c.State.Error = "the process watching the container was killed, and the container with it"
		c.State.FinishedAt = time.Now().UTC()
		if err := e.Store.Save(c); err != nil {
			return c, err
		}
	}
	return e.release(c)
}

func monitorAlive(c *container.Container) bool {
	return c.Runtime.MonitorPid != 0 && container.Alive(c.Runtime.MonitorPid, c.Runtime.MonitorStart)
}

func (e *Engine) releaseLocked(c *container.Container) (*container.Container, error) {
	c, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return e.release(c)
}

// Find resolves ref and refreshes its state. A refresh that cannot be
// recorded (a full disk) leaves the state as stored, still shown.
func (e *Engine) Find(ref string) (*container.Container, error) {
	c, err := e.Store.Find(ref)
	if err != nil {
		return nil, err
	}
	if c2, err := e.Refresh(c); err == nil || c2 != nil {
		return c2, err
	}
	return c, nil
}

// List returns every container, refreshed, newest first. State folders
// that hold no readable state (a run killed before writing it) are removed.
func (e *Engine) List() ([]*container.Container, error) {
	cs, broken, err := e.Store.List()
	if err != nil {
		return nil, err
	}
	for _, id := range broken {
		e.removeBroken(id)
	}
	var out []*container.Container
	for _, c := range cs {
		c2, err := e.Refresh(c)
		if err != nil {
			c2 = c // as stored: the refresh could not be recorded (a full disk)
		}
		if c2 != nil {
			out = append(out, c2)
		}
	}
	return out, nil
}

func (e *Engine) removeBroken(id string) {
	dir := e.Store.Dir(id)
	st, err := os.Stat(dir)
	if err != nil || time.Since(st.ModTime()) < 10*time.Second {
		return // maybe being created right now
	}
	mountinfo.UnmountUnder(dir)
	e.Store.Remove(id)
}

// release undoes every kernel object the container's last start made,
// in reverse order, tolerating objects that are already gone. The caller
// holds the container's lock.
func (e *Engine) release(c *container.Container) (*container.Container, error) {
	if c.Runtime.Released {
		return c, nil
	}
	err := e.releaseObjects(c)
	return c, errors.Join(err, e.Store.Save(c))
}

// deleteCgroup removes the container's cgroup with cgroupctl. The last
// processes of a killed container may still be exiting, and a cgroup
// with members cannot be removed (EBUSY), so it retries briefly.
func (e *Engine) deleteCgroup(c *container.Container) error {
	cgroupctl, err := e.Tools.Path("cgroupctl", "cgroup cleanup")
	if err != nil {
		return err
	}
	argv := []string{cgroupctl, "delete", "--kill", c.Runtime.Cgroup, "--parent", CgroupParent}
	// In-process, through cgroupctl's package (the same code the printed
	// command runs).
	e.Explain.Argv(argv...)
	h, err := cgroup.Detected()
	if err != nil {
		return stepError(argv, err)
	}
	var last error
	for i := 0; i < 50; i++ {
		g, err := cgroup.Open(h, CgroupParent, c.Runtime.Cgroup)
		if err == nil {
			err = g.Delete(true, nil)
		}
		if err == nil || errors.Is(err, cgroup.ErrNotFound) {
			return nil
		}
		last = stepError(argv, err)
		time.Sleep(time.Duration(2+i) * time.Millisecond)
	}
	return last
}

// makeInitLayer makes the init layer c's overlay lists (initlayer.MakeListed).
func (e *Engine) makeInitLayer(c *container.Container) error {
	return initlayer.MakeListed(c.LowerDirs(), e.Root, e.Store.Dir(c.ID), e.Explain)
}

// graphDirs are the overlay's folders in dir, named as Docker's overlay2
// names them: diff (the upper layer), work and merged.
func graphDirs(dir string) (upper, work, merged string) {
	return filepath.Join(dir, "diff"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
}

// SyncFirewall makes the host's NAT and isolation rules those of the
// networks that have containers (network.go's syncFirewall), for package
// sweep after it released leases.
func (e *Engine) SyncFirewall() error { return e.syncFirewall() }
