// Package ns puts a process in new Linux namespaces, or in existing
// ones: what util-linux's unshare(1) and nsenter(1) do, and what a
// container runtime does before it starts a container's first process.
//
// A namespace wraps one global resource so the processes inside see their
// own copy: PIDs (pid), the mount table (mnt), the host and domain names
// (uts), System V IPC and POSIX queues (ipc), network devices, addresses,
// routes and ports (net), user and group IDs with their capabilities
// (user), the cgroup root (cgroup), the clocks (time). Each lives as long
// as a process or a bind mount of /proc/PID/ns/TYPE holds it, and the
// inode number of that file names it.
//
// This file reads as lesson 02 does: create namespaces for a child (the
// clone flags), map its IDs, then inside it set the hostname, mount /proc
// and exec the command. join.go enters existing namespaces (nsenter);
// show.go lists a process's namespaces.
//
// Lesson 02 (lessons/02-namespaces.md) teaches it.
package ns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
)

// Type is one kind of namespace.
type Type struct {
	Name string  // its file in /proc/PID/ns
	Flag uintptr // its CLONE_NEW* flag
	Util string  // the util-linux option for it (unshare and nsenter)
}

// Types lists the namespace types in the order they are joined: user
// first where it must be (it grants the capabilities to join the others
// it owns; the constructor tries the others before it, see
// unshare/nsenter), mnt late (after it, paths resolve in the new mount
// table).
var Types = []Type{
	{"user", unix.CLONE_NEWUSER, "--user"},
	{"cgroup", unix.CLONE_NEWCGROUP, "--cgroup"},
	{"ipc", unix.CLONE_NEWIPC, "--ipc"},
	{"uts", unix.CLONE_NEWUTS, "--uts"},
	{"net", unix.CLONE_NEWNET, "--net"},
	{"pid", unix.CLONE_NEWPID, "--pid"},
	{"mnt", unix.CLONE_NEWNS, "--mount"},
	{"time", unix.CLONE_NEWTIME, "--time"},
}

// ParseType returns the namespace type called name (its /proc/PID/ns
// name, or util-linux's long name: mount, network).
func ParseType(name string) (Type, error) {
	alias := map[string]string{"mount": "mnt", "network": "net"}
	if a, ok := alias[name]; ok {
		name = a
	}
	var names []string
	for _, t := range Types {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Type{}, fmt.Errorf("unknown namespace %q (want one of %s)", name, strings.Join(names, ", "))
}

// Config says which namespaces the command runs in.
type Config struct {
	Flags     uintptr                // CLONE_NEW* flags of the namespaces to create
	Join      []Join                 // existing namespaces to enter first
	MountProc bool                   // mount a new /proc (needs Flags to hold CLONE_NEWNS)
	Hostname  string                 // set in the new UTS namespace
	UIDMap    []syscall.SysProcIDMap // uid_map of the new user namespace
	GIDMap    []syscall.SysProcIDMap // gid_map of the new user namespace
	Argv      []string
	Env       []string
}

// Run runs c.Argv in the namespaces c asks for and returns its exit
// status as a cli.ExitCode (nil for 0); it returns another error only
// when the namespaces could not be made. Existing namespaces are joined
// first (this process re-executes itself for that, see join.go); then,
// when new ones are wanted, a child is created in them with clone(2):
// with CLONE_NEWPID that child is PID 1 of the new PID namespace. This
// process stays outside as its parent: it waits, forwards signals and
// ends with the child's code, as `docker run` does for a container.
func Run(c Config, ex *explain.Printer) error {
	if len(c.Join) > 0 {
		if err := joinFirst(c.Join, nil, c.Argv, ex); err != nil {
			return err
		}
	}
	if c.Flags == 0 {
		ex.Argv(append([]string{"exec"}, c.Argv...)...)
		return cli.Exec(c.Argv, c.Env)
	}
	cmd := childCommand(c, ex)
	return runAndWait(cmd, flagNames(c.Flags))
}

// childCommand prepares the child: this same binary, re-executed in the
// new namespaces (the clone flags of SysProcAttr), which finishes the
// set-up from inside (Init) and then execs the command.
func childCommand(c Config, ex *explain.Printer) *exec.Cmd {
	explainClone(c, ex)
	init := initConfig{
		NewMount:  c.Flags&unix.CLONE_NEWNS != 0,
		MountProc: c.MountProc,
		Hostname:  c.Hostname,
		Argv:      c.Argv,
		Explain:   ex.Enabled(),
	}
	spec, _ := json.Marshal(init)
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = append([]string{"unshare"}, c.Argv...)
	cmd.Env = append(withoutEnv(c.Env, initEnv), initEnv+"="+string(spec))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// clone(2) creates the namespaces and the child in them in one step.
		// unshare(2) would not do: CLONE_NEWPID moves only the children of
		// the caller, and CLONE_NEWUSER is refused to a multi-threaded
		// process, which every Go program is.
		Cloneflags: c.Flags,
		// Go writes these to /proc/CHILD/uid_map and gid_map between clone
		// and exec, from this (parent) process: the only moment they can be
		// written, once, by a process with rights over both sides.
		UidMappings: c.UIDMap,
		GidMappings: c.GIDMap,
		// An unprivileged process may write gid_map only after denying
		// setgroups(2) in the namespace: otherwise the new "root" could drop
		// a supplementary group the host uses to deny it access.
		GidMappingsEnableSetgroups: false,
		// If this parent dies, so does the container's PID 1 (and with it
		// the whole PID namespace): nothing outlives the command.
		Pdeathsig: syscall.SIGKILL,
	}
	return cmd
}

// explainClone prints the clone and the ID map writes as the util-linux
// commands that do the same.
func explainClone(c Config, ex *explain.Printer) {
	if !ex.Enabled() {
		return
	}
	ex.Note("clone(%s): a child in new namespaces; the steps after this run in it", cloneFlagString(c.Flags))
	argv := []string{"unshare"}
	for _, t := range Types {
		if c.Flags&t.Flag != 0 {
			argv = append(argv, t.Util)
		}
	}
	if c.Flags&unix.CLONE_NEWPID != 0 {
		argv = append(argv, "--fork")
	}
	ex.Argv(argv...)
	for _, m := range c.UIDMap {
		ex.Cmd("echo '%d %d %d' > /proc/PID/uid_map", m.ContainerID, m.HostID, m.Size)
	}
	if len(c.GIDMap) > 0 {
		ex.Cmd("echo deny > /proc/PID/setgroups")
	}
	for _, m := range c.GIDMap {
		ex.Cmd("echo '%d %d %d' > /proc/PID/gid_map", m.ContainerID, m.HostID, m.Size)
	}
}

// runAndWait starts the child, forwards the signals this process gets to
// it, waits for it and returns its exit code.
func runAndWait(cmd *exec.Cmd, what string) error {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		err = fmt.Errorf("clone a child in new namespaces (%s): %w", what, err)
		if errors.Is(err, unix.EPERM) && os.Geteuid() != 0 {
			return cli.WithHint(err, "only root may create these namespaces; as a user, add --user --map-root-user")
		}
		return err
	}
	go forwardSignals(sigs, cmd.Process)
	err := cmd.Wait()
	var x *exec.ExitError
	if err != nil && !errors.As(err, &x) {
		return fmt.Errorf("wait for the child: %w", err)
	}
	if code := cli.WaitStatusCode(cmd.ProcessState.Sys().(syscall.WaitStatus)); code != 0 {
		return cli.ExitCode(code)
	}
	return nil
}

// forwardSignals passes signals on to the child. A PID 1 ignores every
// signal it has no handler for (except SIGKILL and SIGSTOP from an
// ancestor namespace), so a forwarded SIGTERM may do nothing: like a
// container without --init.
func forwardSignals(sigs <-chan os.Signal, p *os.Process) {
	for s := range sigs {
		switch s {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			// ours: a child changed state; Go's scheduler; a closed pipe
			continue
		}
		p.Signal(s)
	}
}

// initEnv carries the child's remaining set-up (initConfig, as JSON) to
// the re-executed binary.
const initEnv = "_MINI_DOCKER_UNSHARE_INIT"

type initConfig struct {
	NewMount  bool
	MountProc bool
	Hostname  string
	Argv      []string
	Explain   bool
}

// IsInit reports whether this process is the child re-executed by Run,
// which must call Init instead of parsing its arguments.
func IsInit() bool {
	_, ok := os.LookupEnv(initEnv)
	return ok
}

// Init finishes the set-up inside the new namespaces, then execs the
// command. It returns only on failure.
func Init() error {
	var c initConfig
	if err := json.Unmarshal([]byte(os.Getenv(initEnv)), &c); err != nil {
		return fmt.Errorf("read %s: %w", initEnv, err)
	}
	os.Unsetenv(initEnv)
	var ex *explain.Printer
	if c.Explain {
		ex = explain.New(os.Stderr)
	}
	if c.NewMount {
		if err := makeMountsPrivate(ex); err != nil {
			return err
		}
	}
	if c.MountProc {
		if err := mountProc(ex); err != nil {
			return err
		}
	}
	if c.Hostname != "" {
		if err := setHostname(c.Hostname, ex); err != nil {
			return err
		}
	}
	ex.Argv(append([]string{"exec"}, c.Argv...)...)
	return cli.Exec(c.Argv, os.Environ())
}

// makeMountsPrivate: the new mount namespace starts as a copy of the
// parent's, and shared mounts (systemd makes / shared) stay peers of the
// host's copies, so a mount here would appear on the host too. util-linux
// unshare does the same by default (--propagation private).
func makeMountsPrivate(ex *explain.Printer) error {
	ex.Argv("mount", "--make-rprivate", "/")
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / recursively private in the new mount namespace: %w", err)
	}
	return nil
}

// mountProc mounts a proc filesystem on /proc: procfs shows the PID
// namespace of the process that mounts it, so this one, being in the new
// PID namespace, lists only its processes. Without a new /proc, ps would
// still read the host's.
func mountProc(ex *explain.Printer) error {
	ex.Argv("mount", "-t", "proc", "-o", "nosuid,noexec,nodev", "proc", "/proc")
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("mount proc on /proc: %w", err)
	}
	return nil
}

// setHostname changes the host name of the new UTS namespace only.
func setHostname(name string, ex *explain.Printer) error {
	ex.Argv("hostname", name)
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("set hostname %q: %w", name, err)
	}
	return nil
}

// RootMap returns the maps of --map-root-user: root inside is the
// calling user outside.
func RootMap() (uid, gid []syscall.SysProcIDMap) {
	return IDMap(0, os.Geteuid()), IDMap(0, os.Getegid())
}

// IDMap maps one ID inside the user namespace to one outside.
func IDMap(inside, outside int) []syscall.SysProcIDMap {
	return []syscall.SysProcIDMap{{ContainerID: inside, HostID: outside, Size: 1}}
}

func flagNames(flags uintptr) string {
	var names []string
	for _, t := range Types {
		if flags&t.Flag != 0 {
			names = append(names, t.Util)
		}
	}
	return strings.Join(names, " ")
}

func cloneFlagString(flags uintptr) string {
	names := map[string]string{"mnt": "NS"}
	var out []string
	for _, t := range Types {
		if flags&t.Flag != 0 {
			n, ok := names[t.Name]
			if !ok {
				n = strings.ToUpper(t.Name)
			}
			out = append(out, "CLONE_NEW"+n)
		}
	}
	return strings.Join(out, "|")
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
