package launch

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/inside"
	"mini-docker/mini-docker/plan"
)

// The end of an exec chain (mini-docker __execin DIR -- CMD), and of a
// run --tool-chain: the last hop, already inside the container.

// PrepareExecIn is the first half of mini-docker __execin DIR -- CMD,
// the last hop of an exec chain, already inside the container: it marks
// every descriptor above 2 close-on-exec (the sealed tool copies
// included) and changes to DIR. It returns CMD, for the caller to exec.
func PrepareExecIn(args []string) ([]string, error) {
	if len(args) >= 5 && args[1] == "--console-socket" && args[3] == "--" {
		if err := inside.MakeConsole(args[2]); err != nil {
			return nil, err
		}
		args = append([]string{args[0]}, args[3:]...)
	}
	if len(args) < 3 || args[1] != "--" {
		return nil, fmt.Errorf("usage: %s DIR [--console-socket FD] -- CMD", plan.ExecInArg)
	}
	dir, argv := args[0], args[2:]
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if os.Getpid() == 1 {
		// The container's PID 1 of a run --tool-chain: unshare started it
		// with SIGKILL as parent-death signal, so that it dies with the
		// chain's waiting parent, and that with the monitor. The signal is
		// per thread, and a Go tool of the chain that exec'd from a thread
		// other than its first lost it: set it again for the command.
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	}
	if err := os.Chdir(dir); err != nil {
		return nil, fmt.Errorf("chdir to cwd (%q) failed: %w", dir, err)
	}
	return argv, nil
}
