package caps

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// TestApplyIsPerThread shows why Apply locks its thread: the sets it
// gives one thread are not the other threads' sets.
func TestApplyIsPerThread(t *testing.T) {
	testenv.Integration(t)
	beforePerm, _, _, err := ReadThread()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		perm, eff, inh Set
		status         *Status
		err            error
	}
	done := make(chan result)
	go func() {
		// Apply leaves this goroutine locked to its thread; when the
		// goroutine ends, Go ends that thread with it, so the stripped
		// thread never runs anything else of the test.
		if err := Apply(ForContainer(DockerDefault, 0), nil); err != nil {
			done <- result{err: err}
			return
		}
		perm, eff, inh, err := ReadThread()
		b, err2 := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", unix.Gettid()))
		if err == nil {
			err = err2
		}
		var st *Status
		if err == nil {
			st, err = ParseStatus(b)
		}
		done <- result{perm, eff, inh, st, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.perm != DockerDefault || r.eff != DockerDefault || r.inh != 0 {
		t.Errorf("capget on the applied thread: permitted %s effective %s inheritable %s", r.perm.Hex(), r.eff.Hex(), r.inh.Hex())
	}
	if r.status.Bounding != DockerDefault || r.status.Ambient != 0 {
		t.Errorf("status of the applied thread: bounding %s ambient %s", r.status.Bounding.Hex(), r.status.Ambient.Hex())
	}
	// This goroutine's thread (another one: the other is locked) is untouched.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	perm, _, _, err := ReadThread()
	if err != nil || perm != beforePerm {
		t.Errorf("another thread's permitted set changed: %s, was %s (%v)", perm.Hex(), beforePerm.Hex(), err)
	}
}
