package portmap

import (
	"os/exec"
	"testing"
	"time"

	"mini-docker/mini-docker/container"
)

// TestStopSignalsOnlyItsForwarders: a recorded forwarder whose PID now
// belongs to another process (its start time differs) is not signalled;
// one that is still the forwarder is.
func TestStopSignalsOnlyItsForwarders(t *testing.T) {
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	start, err := container.StartTime(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	c := &container.Container{}
	c.Runtime.Forwarders, c.Runtime.ForwarderStarts = []int{other.Process.Pid}, []uint64{start + 1}
	Stop(c)
	time.Sleep(50 * time.Millisecond)
	if !container.Alive(other.Process.Pid, start) {
		t.Fatal("Stop signalled a process that only has a dead forwarder's PID")
	}
	c.Runtime.Forwarders, c.Runtime.ForwarderStarts = []int{other.Process.Pid}, []uint64{start}
	Stop(c)
	done := make(chan error, 1)
	go func() { done <- other.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end its forwarder")
	}
	if len(c.Runtime.Forwarders)+len(c.Runtime.ForwarderStarts) != 0 {
		t.Errorf("Stop kept %v %v", c.Runtime.Forwarders, c.Runtime.ForwarderStarts)
	}
}
