package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/chroot/jail"
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/seccompctl/seccomp"
)

// The chain in one process.
//
// --explain prints the inside of a run as a chain of tools, each doing
// its step and exec'ing the next (unshare, cgroupctl exec, chroot
// --pivot, seccompctl run, capctl run, then the command), and that
// script, typed by hand, makes the same container. Run that way, one
// start executes six programs and pays for each: a Go program's start,
// unshare's re-exec to join namespaces before its runtime starts, the
// sealed copies of the tools that must run after the pivot, and the
// kernel's global lock for cgroup.procs.
//
// By default mini-docker does the same steps through the same packages
// (jail, seccomp, caps, cgroup) in one process, as runc does with its
// `runc init`:
//
//   - the parent joins the network namespace on one thread and clones
//     from it (clone3 with new UTS, IPC and PID namespaces, and with
//     CLONE_INTO_CGROUP into the group's cgroup2 directory), so the child
//     starts in the netns and the cgroup2 group;
//   - the child, mini-docker __inside, holding its main thread, sets the
//     hostname, moves that thread into the v1 groups (echo 0 > tasks:
//     no global lock), pivots with Docker's mounts, installs the seccomp
//     filter, sets the capabilities and user, and execs the command from
//     that thread, which becomes the whole process.
//
// It reports each stage's time and "exec" on descriptor 4, which closes
// at the exec; run --tool-chain runs the printed chain instead.

// InsideArg is the hidden first argument of the container's first process.
const InsideArg = "__inside"

// Descriptors of the inside process: the plan (read to EOF), the status
// pipe (closed by the exec), and -t's console socket.
const (
	insideSpecFd    = 3
	insideStatusFd  = 4
	insideConsoleFd = 5
)

// insideLaunch is a started inside process.
type insideLaunch struct {
	cmd    *exec.Cmd
	status *os.File // read end: stage lines, then "exec", EOF at the exec
	sock   *os.File // -t: where the terminal's master end arrives
	start  time.Time
}

// launchInside starts the container's first process for c.
func launchInside(c *container.Container, stdin io.Reader, stdout, stderr io.Writer) (*insideLaunch, error) {
	in := c.Runtime.Inside
	spec, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer specR.Close()
	// The plan is a few KiB: it fits the pipe, so it is written now and
	// the child reads it to EOF.
	_, err = specW.Write(spec)
	specW.Close()
	if err != nil {
		return nil, fmt.Errorf("pass the plan to the container's process: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statusW.Close()
	l := &insideLaunch{status: statusR}
	cmd := exec.Command("/proc/self/exe", InsideArg)
	cmd.Args[0] = "mini-docker"
	cmd.Env = c.Runtime.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{specR, statusW}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID}
	if in.Console {
		theirs, ours, err := socketPair()
		if err != nil {
			statusR.Close()
			return nil, err
		}
		defer theirs.Close()
		l.sock = ours
		cmd.ExtraFiles = append(cmd.ExtraFiles, theirs)
		attr.Setsid = true // the child's terminal becomes its controlling one
	} else {
		attr.Setpgid = true
	}
	if in.Userns {
		// Root mapped to root, as unshare --map-root-user (setgroups
		// denied, which is why capctl then leaves the groups alone).
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	}
	if in.CgroupV2 != "" {
		fd, err := unix.Open(in.CgroupV2, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("open cgroup %s: %w", in.CgroupV2, err)
		}
		defer unix.Close(fd)
		attr.UseCgroupFD, attr.CgroupFD = true, fd
	}
	cmd.SysProcAttr = attr
	l.cmd = cmd
	l.start = time.Now()
	if err := startInNetns(cmd, in.Netns); err != nil {
		l.close()
		return nil, fmt.Errorf("start the container's process: %w", err)
	}
	return l, nil
}

func (l *insideLaunch) close() {
	l.status.Close()
	if l.sock != nil {
		l.sock.Close()
	}
}

// startInNetns starts cmd from a thread that has joined the network
// namespace at path, so the child is born in it (a process inherits the
// namespaces of the thread that clones it). The thread is never given
// back: its goroutine ends locked, and Go then ends the thread too.
func startInNetns(cmd *exec.Cmd, path string) error {
	if path == "" {
		return cmd.Start()
	}
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("open network namespace: %w", err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			done <- fmt.Errorf("join network namespace %s: %w", path, err)
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}

// wait reads the inside process's status until its exec (or its end),
// printing the stages for --timings. It reports whether the command was
// exec'd.
func (l *insideLaunch) wait(e *Engine) bool {
	defer l.status.Close()
	sc := bufio.NewScanner(l.status)
	started := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "exec":
			started = true
		case len(f) == 1 && f[0] == "failed":
			started = false
		case len(f) >= 2 && e.Timings != nil:
			us, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			fmt.Fprintf(e.Timings, "%-12s %8.3f ms\n", strings.Join(f[:len(f)-1], " "), float64(us)/1000)
		}
	}
	if started {
		e.stage("chain total", l.start)
	}
	return started
}

// RunInside is the container's first process: mini-docker __inside. It
// runs on the main thread, locked to it from main's init (see
// LockInside), so that every per-thread step (namespaces, cgroup, creds,
// capabilities) is the exec'ing thread's. It returns only on failure,
// with the exit code.
func RunInside() int {
	status := os.NewFile(insideStatusFd, "status")
	unix.CloseOnExec(insideStatusFd)
	code, err := inside(status)
	if err != nil {
		io.WriteString(status, "failed\n")
		return cli.Report(os.Stderr, "mini-docker", cli.WithCode(err, code))
	}
	return 0
}

// LockInside keeps the main goroutine on the main thread, the thread
// group's leader, when this process is the inside one. Called from init.
func LockInside() {
	if len(os.Args) > 1 && os.Args[1] == InsideArg {
		goruntime.LockOSThread()
	}
}

func inside(status io.Writer) (int, error) {
	t := time.Now()
	stage := func(name string) {
		fmt.Fprintf(status, "%s %d\n", name, time.Since(t).Microseconds())
		t = time.Now()
	}
	specFile := os.NewFile(insideSpecFd, "plan")
	b, err := io.ReadAll(specFile)
	specFile.Close()
	if err != nil {
		return 125, fmt.Errorf("read the plan: %w", err)
	}
	var in container.Inside
	if err := json.Unmarshal(b, &in); err != nil {
		return 125, fmt.Errorf("read the plan: %w", err)
	}
	env := os.Environ()

	// unshare --uts --hostname (the namespaces came with the clone).
	if err := unix.Sethostname([]byte(in.Hostname)); err != nil {
		return 125, fmt.Errorf("sethostname: %w", err)
	}
	// cgroupctl exec: the cgroup2 group came with the clone; the v1 ones
	// take this thread, which becomes the whole process at exec.
	if err := cgroup.JoinThread(in.CgroupV1, nil); err != nil {
		return 125, err
	}
	if in.CgroupNS {
		// After joining, so that the namespace's root is the group.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return 125, fmt.Errorf("unshare a cgroup namespace: %w", err)
		}
	}
	stage("cgroup join")

	// seccompctl run's profile is read before the pivot hides the host.
	var prog *seccomp.Program
	if in.Seccomp != "unconfined" {
		prof, err := seccomp.LoadProfile(in.Seccomp)
		if err != nil {
			return 125, err
		}
		if prof != nil {
			set, err := seccomp.ParseCaps(strings.Join(in.SeccompCaps, ","))
			if err != nil {
				return 125, err
			}
			r, p, err := seccomp.Build(prof, seccomp.Options{Caps: set})
			if err != nil {
				return 125, err
			}
			for _, n := range r.Unknown {
				fmt.Fprintf(os.Stderr, "seccompctl: warning: %s: unknown system call %q skipped (as Docker does)\n", prof.Source, n)
			}
			prog = p
		}
	}

	// chroot --pivot --docker [--privileged] --bind ... --workdir W ROOT
	o := jail.Options{Root: in.Root, Privileged: in.Privileged, ReadOnly: in.ReadOnly, Workdir: in.Workdir}
	for _, s := range in.Binds {
		p := strings.Split(s, ":")
		if len(p) < 2 {
			return 125, fmt.Errorf("bind %q: want SRC:DST[:ro]", s)
		}
		o.Binds = append(o.Binds, jail.Bind{Src: p[0], Dst: p[1], ReadOnly: len(p) > 2 && p[2] == "ro"})
	}
	o.Docker()
	if _, err := jail.Enter(o, nil); err != nil {
		return 125, err
	}
	stage("pivot")

	// The command is looked for before the filter, as seccompctl does: a
	// missing one is 127 either way.
	if _, err := cli.LookPath(in.Argv[0], env); err != nil {
		return cli.CodeOf(err), err
	}
	if prog != nil {
		if err := seccomp.Install(prog, nil); err != nil {
			return 125, err
		}
	}
	stage("seccomp")

	// capctl run --docker-default|--privileged [--cap-add] [--cap-drop]
	// [--user U] [--no-new-privs]
	spec, home, err := caps.DockerRun("/", in.CapAdd, in.CapDrop, in.Privileged, in.User, in.NoNewPrivs)
	if err != nil {
		return 125, err
	}
	if home != "" && os.Getenv("HOME") == "" {
		env = append(env, "HOME="+home)
	}
	if err := caps.Apply(spec, nil); err != nil {
		return 125, err
	}
	stage("caps")

	// mini-docker __execin: the terminal (-t), then only 0, 1 and 2 left.
	if in.Console {
		if err := makeConsole(strconv.Itoa(insideConsoleFd)); err != nil {
			return 125, err
		}
	}
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	stage("close fds")
	io.WriteString(status, "exec\n")
	err = cli.Exec(in.Argv, env)
	return cli.CodeOf(err), err
}
