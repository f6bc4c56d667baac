// Package inside is the container's first process when mini-docker
// runs the chain in one process: the program mini-docker-inside, started
// by mini-docker run from a read-only mount of it (see
// mini-docker/engine/launch/inside.go for the parent's half). It does, through
// the tools' own packages, what the chain unshare → cgroupctl exec →
// chroot --pivot → seccompctl run → capctl run → mini-docker __execin
// does, then execs the container's command from the same thread.
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package inside

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/chroot/jail"
	"mini-docker/internal/cli"
	"mini-docker/internal/rlimit"
	"mini-docker/mini-docker/inside/input"
	"mini-docker/seccompctl/seccomp"
)

// Descriptors of the inside process: the plan (read to EOF), the status
// pipe (closed by the exec), and -t's console socket; then the run's
// seccomp filter (FilterFd, filter.go).
const (
	SpecFd    = 3
	StatusFd  = 4
	ConsoleFd = 5
)

// Run is the container's first process (mini-docker-inside). It
// runs on the main thread, locked to it from main's init (see
// LockThread), so that every per-thread step (namespaces, cgroup, creds,
// capabilities) is the exec'ing thread's. It returns only on failure,
// with the exit code.
func Run() int {
	status := os.NewFile(StatusFd, "status")
	unix.CloseOnExec(StatusFd)
	code, err := inside(status) // on success it execs the command
	io.WriteString(status, "failed\n")
	return cli.Report(os.Stderr, "mini-docker", cli.WithCode(err, code))
}

// LockThread keeps the main goroutine on the main thread, the thread
// group's leader. The program calls it from init.
func LockThread() { runtime.LockOSThread() }

func inside(status io.Writer) (int, error) {
	t := time.Now()
	stage := func(name string) {
		fmt.Fprintf(status, "%s %d\n", name, time.Since(t).Microseconds())
		t = time.Now()
	}
	in, err := readConfig()
	if err != nil {
		return 125, err
	}
	if in.Join != 0 {
		return joined(in) // docker exec (exec.go)
	}
	t = time.Now() // an early child waited for the plan (engine/launch/prestart.go)
	env := os.Environ()
	if in.Prestarted {
		env = in.Env
		if err := joinNetns(in.Netns); err != nil {
			return 125, err
		}
	}
	if err := joinCgroup(in); err != nil {
		return 125, err
	}
	stage("cgroup join")

	// prlimit --nofile=S:H ... (--ulimit), before the pivot as in the chain.
	if err := rlimit.Set(in.Rlimits); err != nil {
		return 125, err
	}
	// chroot --pivot --docker [--privileged] --bind ... --workdir W ROOT
	o := jail.Options{Root: in.Root, Privileged: in.Privileged, ReadOnly: in.ReadOnly, Shm: in.Shm, Workdir: in.Workdir}
	o.Binds, o.Tmpfs = jail.OCIMounts(in.Mounts)
	for _, d := range in.Devices {
		ds, err := jail.HostDevices(d.Host, d.Container)
		if err != nil {
			return 125, err
		}
		o.Devices = append(o.Devices, ds...)
	}
	o.Docker()
	if _, err := jail.Enter(o, nil); err != nil {
		return 125, err
	}
	stage("pivot")

	// seccompctl run: the filter mini-docker compiled meanwhile (filter.go).
	prog, err := receiveFilter(in)
	if err != nil {
		return 125, err
	}
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

	if env, err = setCaps(in, env); err != nil {
		return 125, err
	}
	stage("caps")

	// mini-docker __execin: the terminal (-t), then only 0, 1 and 2 left.
	if in.Console {
		if err := MakeConsole(strconv.Itoa(ConsoleFd)); err != nil {
			return 125, err
		}
	}
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	stage("close fds")
	io.WriteString(status, "exec\n")
	err = cli.Exec(in.Argv, env)
	return cli.CodeOf(err), err
}

// readConfig reads the configuration (plan.RenderInside's) to EOF from
// its descriptor.
func readConfig() (*input.Inside, error) {
	// While an early child waits for its plan, encoding/json learns the
	// plan's types (their fields, read by reflection once per type), so
	// that reading the plan, when it comes, costs only its own bytes.
	json.Unmarshal([]byte(`{"Mounts":[{}],"Rlimits":[{}],"Devices":[{}]}`), new(input.Inside))
	f := os.NewFile(SpecFd, "plan")
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	var in input.Inside
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	if len(in.Argv) == 0 {
		return nil, fmt.Errorf("read the plan: no command")
	}
	return &in, nil
}

// joinCgroup is unshare --uts --hostname (the namespaces came with the
// clone) and cgroupctl exec: the cgroup2 group came with the clone; the
// v1 ones take this thread, which becomes the whole process at exec.
func joinCgroup(in *input.Inside) error {
	if err := unix.Sethostname([]byte(in.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if err := cgroup.JoinThread(in.CgroupV1, nil); err != nil {
		return err
	}
	if in.CgroupNS {
		// After joining, so that the namespace's root is the group.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare a cgroup namespace: %w", err)
		}
	}
	return nil
}

// joinNetns is what the parent's clone from a thread in the network
// namespace at path ("" = the host's: none) does for a process it cloned
// before the namespace existed: setns(2) on this, the exec'ing, thread.
func joinNetns(path string) error {
	if path == "" {
		return nil
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns into the network namespace %s: %w", path, err)
	}
	return nil
}

// setCaps is capctl run --docker-default|--privileged [--cap-add]
// [--cap-drop] [--user U] [--no-new-privs]; it returns env with the
// user's HOME when nothing set one.
func setCaps(in *input.Inside, env []string) ([]string, error) {
	r := caps.Run{Root: "/", Add: in.CapAdd, Drop: in.CapDrop, DockerDefault: true, Privileged: in.Privileged, User: in.User, Groups: in.Groups, NoNewPrivs: in.NoNewPrivs}
	spec, home, err := r.Spec()
	if err != nil {
		return nil, err
	}
	if home != "" && !slices.ContainsFunc(env, func(v string) bool { return strings.HasPrefix(v, "HOME=") && v != "HOME=" }) {
		env = append(env, "HOME="+home)
	}
	return env, caps.Apply(spec, nil)
}

// OpenPty opens a new pseudo-terminal from /dev/ptmx.
func OpenPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	// unlockpt(3): clear the lock the kernel puts on a new slave.
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("open pty slave: %w", err)
	}
	return m, s, nil
}

// MakeConsole is run by the last step, inside the container: a new
// terminal from /dev/ptmx as the controlling terminal of a new session
// on 0, 1 and 2, its master sent on the socket fd.
func MakeConsole(socketFd string) error {
	n, err := strconv.Atoi(socketFd)
	if err != nil {
		return fmt.Errorf("--console-socket %q: want a descriptor number", socketFd)
	}
	m, sl, err := OpenPty()
	if err != nil {
		return err
	}
	defer m.Close()
	defer sl.Close()
	// A new session, unless this process already leads one (started so).
	if sid, _ := unix.Getsid(0); sid != unix.Getpid() {
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("setsid: %w", err)
		}
	}
	if err := unix.IoctlSetInt(int(sl.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the terminal controlling: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup2(int(sl.Fd()), fd); err != nil {
			return fmt.Errorf("dup2: %w", err)
		}
	}
	rights := unix.UnixRights(int(m.Fd()))
	if err := unix.Sendmsg(n, []byte{0}, rights, nil, 0); err != nil {
		return fmt.Errorf("send the terminal: %w", err)
	}
	unix.Close(n)
	return nil
}
