package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"mini-docker/internal/testenv"
)

// Two containers started and removed at once share the parent group: a
// delete removes the parent when it leaves it empty, possibly while the
// other create has made the parent and not yet its own group, or not yet
// written the parent's cpuset (v1) or subtree_control (v2). The create
// must make the parent again, every time.
func TestCreateWhileOthersDeleteTheParent(t *testing.T) {
	testenv.Integration(t)
	h, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	parent := fmt.Sprintf("mini-docker-test-%d-race", os.Getpid())
	const workers, rounds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				_, undo, err := Create(h, parent, fmt.Sprintf("w%d-%d", w, i), Resources{PidsLimit: 10}, nil)
				if err != nil {
					errs <- err
					continue
				}
				if err := undo(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	g, err := New(h, parent, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.Dirs() {
		d = filepath.Dir(d)
		if _, err := os.Stat(d); err == nil {
			t.Errorf("parent %s left behind", d)
			os.Remove(d)
		}
	}
}
