package tick

import (
	"testing"
	"time"
)

func TestUntilEndsWhenFIsDone(t *testing.T) {
	n := 0
	Until(make(chan struct{}), time.Millisecond, func() bool {
		n++
		return n == 3
	})
	if n != 3 {
		t.Errorf("f ran %d times, want 3", n)
	}
}

func TestUntilEndsWhenStopped(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	Until(stop, time.Hour, func() bool {
		t.Error("f ran after stop was closed")
		return true
	})
}
