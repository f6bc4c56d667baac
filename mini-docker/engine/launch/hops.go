package launch

import (
	"fmt"
	"os"
	"strconv"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/plan"
)

// Every program that enters a container runs from a file nobody can write.
//
// A process that joins a container's PID namespace shows in the
// container's /proc. Root in the container with CAP_SYS_PTRACE may open
// /proc/PID/exe of it (O_PATH, which needs no right to the file), wait
// until it execs the next program, then reopen that descriptor through
// /proc/self/fd/N for writing and replace the host's program: the next
// `exec` runs the attacker's code as root on the host. That is runc's
// CVE-2019-5736; marking the process non-dumpable does not stop a holder
// of CAP_SYS_PTRACE. So the chains here never exec a toolkit program by
// its host path: each one (a "hop": unshare, cgroupctl, chroot, and the
// tools after the pivot) is exec'd as /proc/self/fd/N, N a descriptor of
// ReadOnlyExecutable, a read-only mount of the file attached nowhere, so
// a write-open through /proc/PID/exe fails with EROFS. unshare's re-exec
// of /proc/self/exe reopens that same read-only file.
//
// --explain prints the chain with the host paths (a script that runs by
// hand); the run and exec pass the same programs as descriptors.

// OpenChain opens what a chain execs into a container, read-only: files
// become descriptors 3, 4, ..., then the console socket (if any), then
// each hop, whose host path in the chain is replaced by /proc/self/fd/N.
// It returns the argv to start and the descriptors in order, for
// exec.Cmd's ExtraFiles; the caller closes them once the chain started.
func OpenChain(chain, files []string, hops []int, console *os.File) ([]string, []*os.File, error) {
	var fds []*os.File
	fail := func(err error) ([]string, []*os.File, error) {
		for _, f := range fds {
			if f != console {
				f.Close()
			}
		}
		return nil, nil, err
	}
	for _, p := range files {
		f, err := ReadOnlyExecutable(p)
		if err != nil {
			return fail(err)
		}
		fds = append(fds, f)
	}
	if console != nil {
		fds = append(fds, console)
	}
	argv := append([]string{}, chain...)
	for k, i := range hops {
		if i >= len(argv) {
			return fail(fmt.Errorf("the chain has no program at %d", i))
		}
		f, err := ReadOnlyExecutable(argv[i])
		if err != nil {
			return fail(err)
		}
		fds = append(fds, f)
		argv[i] = "/proc/self/fd/" + strconv.Itoa(plan.HopFd(len(files), console != nil, k))
	}
	return argv, fds, nil
}

// ChainLine is a chain as one shell line, started with env -i so that
// the container sees exactly its own environment, and with the tools
// that run after the pivot opened as descriptors 3, 4, ...
func ChainLine(env, chain, files []string) string {
	line := explain.Join(append(append([]string{"env", "-i"}, env...), chain...)...)
	for i, f := range files {
		line += fmt.Sprintf(" %d<%s", 3+i, explain.Quote(f))
	}
	return line
}
