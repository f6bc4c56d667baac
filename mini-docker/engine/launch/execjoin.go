package launch

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"mini-docker/mini-docker/container"
)

// docker exec in one process.
//
// --explain prints an exec as a chain of tools (cgroupctl exec, unshare
// join, seccompctl run, capctl run, mini-docker __execin), which execs
// six programs before the command: unshare re-executes itself so that
// its C constructor joins the mount namespace before Go starts threads.
// By default mini-docker does the same steps with one program, as
// `runc exec` does with `runc init`: it starts mini-docker-inside from a
// read-only mount of it (hops.go), with CLONE_INTO_CGROUP for the group's
// cgroup2 directory, and that program, on its main thread, joins the v1
// groups (echo 0 > tasks), gives the thread its own filesystem
// information (unshare(CLONE_FS), which setns(2) into a mount namespace
// needs of a multi-threaded process), joins the namespaces, root and
// working directory of the container's first process (ns.EnterThread),
// installs the filter, sets the capabilities and user, changes to the
// working directory and starts the command from that thread, then waits
// for it, passing signals on (package inside, joined).
//
// mini-docker-inside itself stays in the host's PID namespace (setns(2)
// there is for the thread's children), so the only processes a container
// sees enter are the command and, until its exec, a copy of
// mini-docker-inside nobody can write through /proc/PID/exe: never
// mini-docker (CVE-2019-5736). A container in a user namespace of its
// own gets the chain: no thread of a multi-threaded process may join one
// (ns.ErrUserNamespace).

// execProgFd is mini-docker-inside's own program, exec'd through it: after
// its configuration, its status (unread here) and -t's console socket.
const execProgFd = 6

// ExecInside returns the command that runs docker exec's steps in
// mini-docker-inside (in, plan.RenderInside of exec's steps), with -t's
// console socket if any, and the descriptors to close once it started.
func ExecInside(in *container.Inside, console *os.File) (*exec.Cmd, []*os.File, error) {
	specR, err := planPipe(in)
	if err != nil {
		return nil, nil, fmt.Errorf("pass the plan to mini-docker-inside: %w", err)
	}
	fds := []*os.File{specR}
	fail := func(err error) (*exec.Cmd, []*os.File, error) {
		for _, f := range fds {
			f.Close()
		}
		return nil, nil, err
	}
	status, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	fds = append(fds, status)
	prog, err := ReadOnlyExecutable(in.Program)
	if err != nil {
		return fail(err)
	}
	fds = append(fds, prog)
	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", execProgFd))
	cmd.Args[0] = "mini-docker-inside"
	cmd.ExtraFiles = []*os.File{specR, status, console, prog}
	return cmd, fds, nil
}

// StartExec starts cmd (ExecInside's) in the group's cgroup2 directory
// (the v1 ones the program joins itself).
func StartExec(cmd *exec.Cmd, in *container.Inside) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	closeGroup, err := intoCgroup(cmd.SysProcAttr, in.CgroupV2)
	if err != nil {
		return err
	}
	defer closeGroup()
	return startUnlessBusy(cmd)
}
