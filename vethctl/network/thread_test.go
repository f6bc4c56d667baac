package network

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// parkedMainEnv makes the test binary stand on its main thread, moved
// into a namespace of its own, as a goroutine that exits locked to the
// main thread leaves it (Go parks the main thread, never ends it): then
// /proc/self/ns/net is that namespace, not the process's.
const parkedMainEnv = "VETHCTL_TEST_PARKED_MAIN_THREAD"

// mainThreadChecks are run by a child of the test binary on its main
// thread, chosen by an environment variable: init runs there (Go locks
// the main goroutine to it during initialization), the only place a test
// can stand on it.
var mainThreadChecks = map[string]func() error{
	mainThreadEnv: forwardFromMainThread,
	parkedMainEnv: threadsAfterParkedMain,
}

func init() {
	for env, check := range mainThreadChecks {
		if os.Getenv(env) != "1" {
			continue
		}
		if err := check(); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	}
}

// onMainThread runs the check env names in a child of the test binary.
func onMainThread(t *testing.T, env string) {
	t.Helper()
	testenv.Integration(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("%s: %v\n%s", env, err, out)
	}
}

// threadsAfterParkedMain moves the main thread into a new namespace, runs
// work in that namespace and in fresh ones from many threads at once,
// and then checks that every thread but the main one is back in the
// process's namespace. A helper that goes back to /proc/self/ns/net, or
// unlocks without going back, leaves threads in the wrong one, where Go
// would run any goroutine next.
func threadsAfterParkedMain() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	parked, err := threadNetns()
	if err != nil {
		return err
	}
	if sameNetns(parked, processNetns) {
		return fmt.Errorf("the main thread did not move")
	}
	mainNs := "/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/ns/net"
	dir, err := os.MkdirTemp("", "parked-main")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- DoAt(mainNs, func() error {
				if st, err := threadNetns(); err != nil || !sameNetns(st, parked) {
					return fmt.Errorf("fn ran outside the namespace it was given (%v)", err)
				}
				return nil
			})
		}()
		go func(i int) {
			defer wg.Done()
			path := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				errs <- err
				return
			}
			errs <- unshareAndBind(path)
			unix.Unmount(path, unix.MNT_DETACH)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		if filepath.Base(task) == strconv.Itoa(os.Getpid()) {
			continue // the parked main thread
		}
		var st unix.Stat_t
		if err := unix.Stat(task+"/ns/net", &st); err != nil {
			continue // the thread has ended
		}
		if !sameNetns(st, processNetns) {
			return fmt.Errorf("thread %s was given back to Go outside the process's network namespace", filepath.Base(task))
		}
	}
	return nil
}

// With the main thread parked in another namespace, every thread the
// netns helper used is back in the process's namespace afterwards.
func TestNetnsThreadsCleanWithMainThreadParked(t *testing.T) {
	onMainThread(t, parkedMainEnv)
}

// The main thread is never left inside a namespace the helper entered:
// run in the test's own process, where the main thread takes goroutines
// like any other, /proc/self/ns/net stays the process's namespace.
func TestNetnsHelperNeverParksTheMainThread(t *testing.T) {
	testenv.Integration(t)
	dir := t.TempDir()
	for i := 0; i < 64; i++ {
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := unshareAndBind(path); err != nil {
			t.Fatal(err)
		}
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	if !sameNetns(st, processNetns) {
		t.Fatal("the main thread was left inside a namespace the helper made")
	}
}
