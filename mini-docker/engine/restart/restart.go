// Package restart is docker run --restart in mini-docker's terms. When
// a container's process ends, the engine records its end and, in the
// same save, Mark: Decide says whether the policy restarts it and after
// how long (Docker's restart manager, moby's restartmanager: 100 ms,
// doubled at each restart up to a minute, back to 100 ms once the
// container had run 10 s), and the wait is recorded as Docker's state
// "restarting". Whoever waited for it (its monitor, or the foreground
// run) then calls After, which starts it again through the engine, with
// a monitor of its own, as `start` would. `stop` ends the loop: Cancel
// records the manual stop and wakes a waiting monitor with SIGTERM.
// Lesson 09 shows it.
package restart

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"mini-docker/mini-docker/container"
)

// Docker's back-off (moby/restartmanager).
const (
	firstDelay = 100 * time.Millisecond
	maxDelay   = time.Minute
	resetAfter = 10 * time.Second
)

// Decide is Docker's restart manager's ShouldRestart: whether policy p
// restarts a container that exited with code after running for ran,
// having restarted count times already after the back-off prev, and the
// back-off to wait before this restart. stopped says the user stopped it
// (docker stop): no policy restarts it then. unless-stopped and always
// differ only when the daemon starts, and mini-docker has none.
func Decide(p container.RestartPolicy, count int, prev time.Duration, code int, stopped bool, ran time.Duration) (bool, time.Duration) {
	delay := prev
	if ran >= resetAfter {
		delay = 0
	}
	switch {
	case delay == 0:
		delay = firstDelay
	case delay < maxDelay:
		delay *= 2
	}
	delay = min(delay, maxDelay)
	if stopped {
		return false, delay
	}
	switch p.Name {
	case container.RestartAlways, container.RestartUnlessStopped:
		return true, delay
	case container.RestartOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || count < p.MaximumRetryCount), delay
	}
	return false, delay
}

// Wake is where a stop's SIGTERM wakes a back-off (Cancel sends it):
// the process that waits for the container listens before the container
// can end, so that no stop finds it deaf.
func Wake() chan os.Signal {
	w := make(chan os.Signal, 1)
	signal.Notify(w, syscall.SIGTERM)
	return w
}

// Mark decides, when c's end is being recorded (engine.Finish, under
// c's lock, so that no command sees it exited in between), whether its
// policy restarts it, and records the wait: Docker's "restarting" state
// (Running and Restarting both true, no process) and one more restart.
func Mark(c *container.Container) {
	ran := c.State.FinishedAt.Sub(c.State.StartedAt)
	restart, delay := Decide(c.HostConfig.RestartPolicy, c.RestartCount, c.Runtime.RestartDelay, c.State.ExitCode, c.Runtime.ManuallyStopped, ran)
	if !restart || c.HostConfig.AutoRemove {
		return
	}
	c.RestartCount++
	c.Runtime.RestartDelay = delay
	c.State.Status = container.Restarting
	c.State.Running, c.State.Restarting = true, true
}

// After carries out what Mark recorded, once c's end is recorded: it
// waits out the back-off (or until wake), then starts c again with start
// (the engine's Start, by the policy). It reports whether c was
// restarted; a stop during the wait ends it with c exited.
func After(s *container.Store, id string, wake <-chan os.Signal, start func(*container.Container) error) (bool, error) {
	c, err := s.Load(id)
	if err != nil || !c.State.Restarting {
		return false, nil
	}
	t := time.NewTimer(c.Runtime.RestartDelay)
	select {
	case <-t.C:
	case <-wake:
		t.Stop()
	}
	c, l, err := s.LockLoad(id)
	if err != nil {
		return false, nil // removed meanwhile
	}
	if c.Runtime.ManuallyStopped || !c.State.Restarting {
		end(c, "")
		err := s.Save(c)
		l.Unlock()
		return false, err
	}
	l.Unlock()
	if err := start(c); err != nil {
		failed(s, id, err)
		return false, err
	}
	return true, nil
}

// Cancel records that the user stopped c (stop, rm -f), so that its
// restart policy leaves it stopped (Docker's HasBeenManuallyStopped),
// and wakes a monitor waiting out a back-off, which then records c
// exited. It returns c's state once that monitor has ended.
func Cancel(s *container.Store, c *container.Container) *container.Container {
	cur, l, err := s.LockLoad(c.ID)
	if err != nil {
		return c
	}
	if cur.HostConfig.RestartPolicy.IsNone() {
		l.Unlock()
		return c
	}
	cur.Runtime.ManuallyStopped = true
	s.Save(cur)
	l.Unlock()
	if !cur.State.Restarting || !monitorAlive(cur) {
		return cur
	}
	syscall.Kill(cur.Runtime.MonitorPid, syscall.SIGTERM)
	for deadline := time.Now().Add(time.Minute); monitorAlive(cur) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if now, err := s.Load(c.ID); err == nil {
		return now
	}
	return cur
}

// ForKill is docker kill's part in the restart policy: the policy then
// leaves c stopped (Docker's kill sets HasBeenManuallyStopped too), and
// a restarting c is only taken out of its loop (recorded exited, as
// Docker's kill of a restarting container does, with nothing to
// signal). done reports that case.
func ForKill(s *container.Store, c *container.Container) (cur *container.Container, done bool) {
	was := c.State.Restarting
	cur = Cancel(s, c)
	return cur, was && !cur.State.Restarting && !cur.State.Running
}

func monitorAlive(c *container.Container) bool {
	return c.Runtime.MonitorPid != 0 && container.Alive(c.Runtime.MonitorPid, c.Runtime.MonitorStart)
}

// end records c as exited (its exit code kept), no longer restarting.
func end(c *container.Container, msg string) {
	c.State.Status = container.Exited
	c.State.Running, c.State.Restarting = false, false
	if msg != "" {
		c.State.Error = msg
	}
}

// failed records a restart whose start failed: the container stays
// exited, with the reason in State.Error, as Docker records it.
func failed(s *container.Store, id string, err error) {
	c, l, lerr := s.LockLoad(id)
	if lerr != nil {
		return
	}
	defer l.Unlock()
	if c.State.Restarting {
		end(c, fmt.Sprintf("restart: %v", err))
		s.Save(c)
	}
}
