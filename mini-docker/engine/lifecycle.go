package engine

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	mobyevents "github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"

	"mini-docker/internal/mountinfo"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/portmap"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/events"
)

// signalName is sig as kill(1) names it: KILL.
func signalName(sig syscall.Signal) string { return strings.TrimPrefix(unix.SignalName(sig), "SIG") }

// running reports whether c's process is alive.
func running(c *container.Container) bool {
	return c.State.Running && container.Alive(c.State.Pid, c.Runtime.PidStart)
}

// Kill sends sig to the container's PID 1 (from outside its PID namespace
// it arrives only if handled, but SIGKILL and SIGSTOP: pid_namespaces(7)).
// A process found gone (its monitor still recording the end) is no error,
// as in Docker; only a container recorded as stopped is refused.
func (e *Engine) Kill(c *container.Container, sig syscall.Signal) error {
	if !c.State.Running {
		return fmt.Errorf("cannot kill container: %s: container %s is not running", strings.TrimPrefix(c.Name, "/"), c.ID)
	}
	if c.State.Paused && sig == syscall.SIGKILL {
		e.thaw(c) // a frozen process cannot die until thawed
	}
	e.Explain.Cmd("kill -%s %d", signalName(sig), c.State.Pid)
	if err := container.Signal(c.State.Pid, c.Runtime.PidStart, sig); err != nil {
		return fmt.Errorf("kill %d: %w", c.State.Pid, err)
	}
	e.event("kill", c, map[string]string{"signal": strconv.Itoa(int(sig))})
	return nil
}

// WaitExit blocks until c is no longer running (or timeout passes, when
// positive) and returns its refreshed state.
func (e *Engine) WaitExit(c *container.Container, timeout time.Duration) (*container.Container, bool) {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := e.Store.Load(c.ID)
		if err != nil {
			return c, true // removed (--rm): it has ended
		}
		cur, _ = e.Refresh(cur)
		if cur == nil {
			return c, true
		}
		if !cur.State.Running {
			return cur, true
		}
		if !container.Alive(cur.State.Pid, cur.Runtime.PidStart) && !monitorAlive(cur) {
			continue // Refresh will record it
		}
		if timeout > 0 && time.Now().After(deadline) {
			return cur, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop sends the container's stop signal (--stop-signal, the image's
// STOPSIGNAL, else SIGTERM), waits up to timeout, then SIGKILL, as
// docker stop (a timeout of 0 kills at once, a negative one never does).
func (e *Engine) Stop(c *container.Container, timeout time.Duration) error {
	c = restart.Cancel(e.Store, c)
	if !running(c) {
		return nil
	}
	if c.State.Paused {
		e.thaw(c)
	}
	defer e.event("stop", c, nil)
	sig := syscall.SIGTERM
	if s, err := container.ParseSignal(c.Config.StopSignal); c.Config.StopSignal != "" && err == nil {
		sig = s
	}
	e.Kill(c, sig)
	// -t 0 kills at once, as Docker; a negative timeout waits for as
	// long as it takes (WaitExit's 0).
	if timeout != 0 {
		if _, done := e.WaitExit(c, max(timeout, 0)); done {
			return nil
		}
	}
	if err := e.Kill(c, syscall.SIGKILL); err != nil {
		return err
	}
	e.WaitExit(c, 0)
	return nil
}

// ErrRunning is Docker's refusal to remove a running (or restarting) container.
type ErrRunning struct{ ID, State string } // State: running (""), restarting

func (e *ErrRunning) Error() string {
	return fmt.Sprintf("cannot remove container %q: container is %s: stop the container before removing or force remove", e.ID, cmp.Or(e.State, "running"))
}

// Remove deletes c: with force, it kills a running container first.
// Whatever state c is in (running, crashed, half made), Remove releases
// every kernel object recorded for it and deletes its folder.
func (e *Engine) Remove(c *container.Container, force bool) error {
	if c.State.Restarting && !force && monitorAlive(c) {
		return &ErrRunning{ID: "/" + strings.TrimPrefix(c.Name, "/"), State: "restarting"}
	}
	if force {
		c = restart.Cancel(e.Store, c)
	}
	if running(c) {
		if !force {
			return &ErrRunning{ID: "/" + strings.TrimPrefix(c.Name, "/")}
		}
		if c.State.Paused {
			e.thaw(c)
		}
		syscall.Kill(c.State.Pid, syscall.SIGKILL)
		if cur, done := e.WaitExit(c, 5*time.Second); done {
			c = cur
		}
	}
	// A run or monitor still setting up: stop it so it makes nothing more.
	if c.State.Status == container.Created && monitorAlive(c) && c.Runtime.MonitorPid != os.Getpid() {
		if !force {
			return &ErrRunning{ID: "/" + strings.TrimPrefix(c.Name, "/")}
		}
		syscall.Kill(c.Runtime.MonitorPid, syscall.SIGKILL)
	}
	l, err := e.Store.LockContainer(c.ID)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed meanwhile (--rm)
		}
		return err
	}
	defer l.Unlock()
	cur, err := e.Store.Load(c.ID)
	if err != nil {
		if _, statErr := os.Stat(e.Store.Dir(c.ID)); os.IsNotExist(statErr) {
			return nil
		}
		cur = c // unreadable state: release what we know
	}
	if running(cur) && force {
		syscall.Kill(cur.State.Pid, syscall.SIGKILL)
	}
	if _, err := e.release(cur); err != nil && !force {
		return err
	}
	mountinfo.UnmountUnder(e.Store.Dir(c.ID))
	e.Explain.Argv("rm", "-rf", e.Store.Dir(c.ID))
	e.event("destroy", cur, nil)
	return e.Store.Remove(c.ID)
}

// Pause freezes every process of the container (the freezer cgroup).
func (e *Engine) Pause(c *container.Container) error {
	if !running(c) {
		return fmt.Errorf("container %s is not running", c.ID)
	}
	if c.State.Paused {
		return fmt.Errorf("container %s is already paused", c.ID)
	}
	return e.setPaused(c, true)
}

// Unpause thaws a paused container.
func (e *Engine) Unpause(c *container.Container) error {
	if !c.State.Paused {
		return fmt.Errorf("container %s is not paused", c.ID)
	}
	return e.setPaused(c, false)
}

func (e *Engine) thaw(c *container.Container) { e.setPaused(c, false) }

// freezeGroup freezes or thaws c's cgroup (cgroupctl freeze/thaw).
func (e *Engine) freezeGroup(c *container.Container, paused bool) error {
	cgroupctl, err := e.Tools.Path("cgroupctl", "pause")
	if err != nil {
		return err
	}
	verb := "thaw"
	if paused {
		verb = "freeze"
	}
	return runTool(e.Explain, []string{cgroupctl, verb, c.ID, "--parent", CgroupParent})
}

func (e *Engine) setPaused(c *container.Container, paused bool) error {
	if err := e.freezeGroup(c, paused); err != nil {
		return err
	}
	cur, l, err := e.Store.LockLoad(c.ID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	cur.State.Paused = paused
	cur.State.Status = container.Running
	if paused {
		cur.State.Status = container.Paused
	}
	*c = *cur
	e.event(map[bool]mobyevents.Action{true: "pause", false: "unpause"}[paused], cur, nil)
	return e.Store.Save(cur)
}

// event records a container's state change in the events log (package
// events), what `mini-docker events` reads; a failure to record is not
// the command's.
func (e *Engine) event(action mobyevents.Action, c *container.Container, attrs map[string]string) {
	events.Container(e.Root, action, c, attrs)
}

// Pids lists the host PIDs of the container's processes: those in its
// PID namespace (container.PidsInNamespace).
func (e *Engine) Pids(c *container.Container) []int {
	if !running(c) {
		return nil
	}
	return container.PidsInNamespace(c.State.Pid)
}

// releaseObjects is release without recording it in c's state: for a
// container whose folder is removed next (--rm), that write is wasted.
// It undoes the network (and the port forwarders), the cgroup and the
// root filesystem, each tolerating what is already gone.
func (e *Engine) releaseObjects(c *container.Container) error {
	portmap.Stop(c)
	// In this order, each printed line before its call: the printed
	// script unmounts without -l, so the cgroup's delete --kill must have
	// ended whatever process is left first.
	netErr := e.releaseNetwork(c)
	err := errors.Join(e.networks().ReleaseConnected(e.Store, c, e.Explain), netErr, e.releaseCgroup(c), e.releaseRootfs(c))
	if err == nil {
		c.Runtime.Released = true
	}
	return err
}

// releaseCgroup deletes c's cgroup (with --kill) and forgets it.
func (e *Engine) releaseCgroup(c *container.Container) error {
	if c.Runtime.Cgroup == "" {
		return nil
	}
	if err := e.deleteCgroup(c); err != nil {
		return err
	}
	c.Runtime.Cgroup = ""
	return nil
}

// releaseRootfs detaches c's overlay (umount -l: a process still inside
// keeps it until it ends) and forgets it once it is no mount point.
func (e *Engine) releaseRootfs(c *container.Container) error {
	m := c.Runtime.Merged
	if m == "" {
		return nil
	}
	var err error
	if mountinfo.IsMountRoot(m) {
		e.Explain.Argv("umount", m)
		if uerr := syscall.Unmount(m, syscall.MNT_DETACH); uerr != nil && !errors.Is(uerr, syscall.EINVAL) && !errors.Is(uerr, syscall.ENOENT) {
			err = fmt.Errorf("unmount %s: %w", m, uerr)
		}
	}
	if !mountinfo.IsMountRoot(m) {
		c.Runtime.Merged = ""
	}
	return err
}
