package ociruntime

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/ociruntime/convert"
)

// createOptions are create's flags (run's too).
type createOptions struct {
	Bundle, PidFile, ConsoleSocket string
}

func cmdCreate(r *Runtime, args []string) error {
	var o createOptions
	f := createFlags("create", &o)
	id, err := parseID(f, args)
	if err != nil {
		return err
	}
	_, err = r.create(id, o)
	return err
}

func createFlags(name string, o *createOptions) *pflag.FlagSet {
	f := flags(name)
	f.StringVarP(&o.Bundle, "bundle", "b", ".", "the bundle's directory")
	f.StringVar(&o.PidFile, "pid-file", "", "write the container's PID there")
	f.StringVar(&o.ConsoleSocket, "console-socket", "", "send the terminal's master end on this socket")
	f.Bool("no-pivot", false, "")
	f.Bool("no-new-keyring", false, "")
	return f
}

// initConfig is what create hands the container's process on its
// descriptor 3: the spec, and what create decided for it.
type initConfig struct {
	Spec        *specs.Spec `json:"spec"`
	Rootfs      string      `json:"rootfs"`
	NewCgroupNS bool        `json:"newCgroupNS"`
	Console     bool        `json:"console"`
}

// Descriptors of the container's process until it execs the command.
const (
	configFd  = 3 // initConfig, read to EOF
	fifoFd    = 4 // exec.fifo, opened O_PATH
	statusFd  = 5 // "ready", or the error, then EOF
	consoleFd = 6 // --console-socket's connection
)

// create makes the container: state directory and fifo, the group, the
// process in its namespaces; it returns once that process is ready and
// waits on the fifo. Whatever fails undoes the rest.
func (r *Runtime) create(id string, o createOptions) (st *State, err error) {
	spec, bundle, err := loadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Root, 0o711); err != nil {
		return nil, fmt.Errorf("create the state root %s: %w", r.Root, err)
	}
	if err := os.Mkdir(r.dir(id), 0o711); errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("container %q already exists", id)
	} else if err != nil {
		return nil, err
	}
	st = &State{State: specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating, Bundle: bundle,
		Annotations: spec.Annotations}, Rootfs: rootfsPath(bundle, spec), Created: time.Now().UTC(), Hooks: spec.Hooks}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			os.RemoveAll(r.dir(id))
		}
	}()
	if err := unix.Mkfifo(r.fifo(id), 0o622); err != nil {
		return nil, fmt.Errorf("mkfifo %s: %w", r.fifo(id), err)
	}
	unix.Chmod(r.fifo(id), 0o622) // mkfifo applied the umask
	g, err := r.makeGroup(st, spec)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { g.Delete(true, nil) })
	if err := r.save(st); err != nil {
		return nil, err
	}
	cmd, err := r.startInit(st, spec, g, o.ConsoleSocket)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { cmd.Process.Kill(); cmd.Wait() })
	st.Pid = cmd.Process.Pid
	st.PidStart, _ = container.StartTime(st.Pid)
	st.Status = specs.StateCreated
	if err := r.save(st); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, st.Pid); err != nil {
			return nil, err
		}
	}
	if spec.Hooks != nil {
		state := ociState(st)
		//lint:ignore SA1019 prestart is deprecated, and Docker 20.10 still sets it (libnetwork-setkey)
		for _, hooks := range [][]specs.Hook{spec.Hooks.Prestart, spec.Hooks.CreateRuntime} {
			if err := runHooks(hooks, state); err != nil {
				return nil, err
			}
		}
	}
	cmd.Process.Release() // the process lives on, under the shim (or init)
	return st, nil
}

// loadBundle reads BUNDLE/config.json.
func loadBundle(dir string) (*specs.Spec, string, error) {
	bundle, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, "", fmt.Errorf("read the bundle's config.json: %w", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, "", fmt.Errorf("read %s: %w", filepath.Join(bundle, "config.json"), err)
	}
	if err := checkSpec(&s); err != nil {
		return nil, "", fmt.Errorf("%s: %w", filepath.Join(bundle, "config.json"), err)
	}
	return &s, bundle, nil
}

// checkSpec refuses what this runtime cannot do, before anything is made.
func checkSpec(s *specs.Spec) error {
	switch {
	case s.Root == nil || s.Root.Path == "":
		return errors.New("root.path is required")
	case s.Process == nil:
		return errors.New("process is required")
	case len(s.Process.Args) == 0:
		return errors.New("process.args must not be empty")
	case s.Linux == nil:
		return errors.New("linux is required (this runtime runs Linux containers)")
	}
	if err := checkProcess(s.Process); err != nil {
		return err
	}
	var newNS, newUser bool
	var joinUser string
	for _, ns := range s.Linux.Namespaces {
		if _, ok := cloneFlags[ns.Type]; !ok {
			return fmt.Errorf("namespace type %q: unknown", ns.Type)
		}
		newNS = newNS || ns.Path == ""
		newUser = newUser || (ns.Path == "" && ns.Type == specs.UserNamespace)
		if ns.Path != "" && ns.Type == specs.UserNamespace {
			joinUser = ns.Path
		}
	}
	// The namespaces joined by path in unshare's constructor (see
	// hopThroughUnshare) are joined after the new ones are made, by the
	// clone: runc joins first. Where the order shows, it is refused.
	for _, ns := range s.Linux.Namespaces {
		if ns.Path != "" && ns.Type == specs.MountNamespace && newUser {
			return fmt.Errorf("joining the mount namespace %s from a new user namespace is not supported: the new namespace holds no capability over it", ns.Path)
		}
	}
	if joinUser != "" && newNS {
		return fmt.Errorf("joining the user namespace %s beside new namespaces is not supported: they would belong to the host's user namespace, not to it", joinUser)
	}
	return nil
}

func rootfsPath(bundle string, s *specs.Spec) string {
	if filepath.IsAbs(s.Root.Path) {
		return s.Root.Path
	}
	return filepath.Join(bundle, s.Root.Path)
}

// cloneFlags are the namespace types and their clone(2) flags.
var cloneFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace: unix.CLONE_NEWPID, specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace: unix.CLONE_NEWNS, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.UserNamespace: unix.CLONE_NEWUSER,
	specs.CgroupNamespace: unix.CLONE_NEWCGROUP, specs.TimeNamespace: unix.CLONE_NEWTIME,
}

// makeGroup creates the container's cgroup with the spec's limits.
// linux.cgroupsPath is a path of groups: absolute (Docker's /docker/ID)
// from each tree's root, relative (testdir/cgrouptest/ID) from the
// runtime's own group in each tree, as runc takes them; every level but
// the last is the parent, made when missing. Without one the group is
// /ID. The state keeps where the group is and which levels were made.
func (r *Runtime) makeGroup(st *State, spec *specs.Spec) (*cgroup.Group, error) {
	h, err := cgroup.Detect()
	if err != nil {
		return nil, err
	}
	parent, name, base := "", st.ID, map[string]string(nil)
	if p := spec.Linux.CgroupsPath; p != "" {
		if strings.Contains(p, ":") {
			return nil, fmt.Errorf("linux.cgroupsPath %q: systemd's slice:prefix:name is not supported: give a path of groups", p)
		}
		if !filepath.IsAbs(p) {
			base = convert.SelfBase(h)
		}
		// Not cleaned: cgroup.New refuses "..", "." and empty levels.
		rel := strings.TrimPrefix(p, "/")
		if i := strings.LastIndex(rel, "/"); i >= 0 {
			parent, name = rel[:i], rel[i+1:]
		} else {
			name = rel
		}
	}
	g, _, err := cgroup.CreateIn(h, base, parent, name, cgroup.ResourcesOf(spec.Linux.Resources), nil)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath %q: %w", spec.Linux.CgroupsPath, err)
	}
	g.Made = g.MadeParents()
	st.CgroupBase, st.CgroupMade = base, g.Made
	st.CgroupParent, st.CgroupName = parent, name
	if err := g.SetDeviceRules(convert.DeviceRules(spec), nil); err != nil {
		g.Delete(true, nil)
		return nil, err
	}
	if h.Driver != cgroup.V2 {
		dirs := g.Paths()
		for _, w := range convert.V1Writes(spec.Linux.Resources) {
			p := filepath.Join(dirs[w.Controller], w.File)
			if err := os.WriteFile(p, []byte(w.Value), 0); dirs[w.Controller] == "" || err != nil {
				g.Delete(true, nil)
				return nil, fmt.Errorf("echo %s > %s: %v", w.Value, p, err)
			}
		}
	}
	return g, nil
}

// startInit starts the container's process: this binary again (`runtime
// init`), cloned with the spec's new namespaces from a thread that has
// joined the ones it names by path, into the group; it is given its
// configuration once it is in every v1 hierarchy of the group, and create
// waits for its "ready".
func (r *Runtime) startInit(st *State, spec *specs.Spec, g *cgroup.Group, consoleSocket string) (*exec.Cmd, error) {
	cfg := initConfig{Spec: spec, Rootfs: st.Rootfs, Console: spec.Process.Terminal}
	attr := &syscall.SysProcAttr{}
	var joins, hop []specs.LinuxNamespace
	for _, ns := range spec.Linux.Namespaces {
		switch {
		case ns.Path != "" && (ns.Type == specs.UserNamespace || ns.Type == specs.MountNamespace):
			hop = append(hop, ns)
		case ns.Path != "":
			joins = append(joins, ns)
		case ns.Type == specs.CgroupNamespace:
			cfg.NewCgroupNS = true // made by the process, once in its group
		default:
			attr.Cloneflags |= cloneFlags[ns.Type]
		}
	}
	if attr.Cloneflags&unix.CLONE_NEWUSER != 0 {
		userns(attr, spec)
	}
	if _, v2 := g.SplitDirs(); v2 != "" {
		fd, err := unix.Open(v2, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open cgroup %s: %w", v2, err)
		}
		defer unix.Close(fd)
		attr.UseCgroupFD, attr.CgroupFD = true, fd
	}
	files, closeAll, err := r.initFiles(st.ID, cfg.Console, consoleSocket)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if cfg.Console {
		attr.Setsid = true
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// Exec'd through a read-only mount of this binary attached nowhere,
	// as mini-docker's own first process is: nothing in the container
	// can write the host's file through /proc/PID/exe (CVE-2019-5736).
	prog, err := launch.ReadOnlyExecutable(self)
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", prog.Fd()), "runtime", initArg)
	cmd.Args[0] = "mini-docker-runtime-init"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = files.child
	cmd.Env = []string{}
	cmd.SysProcAttr = attr
	if len(hop) > 0 {
		if cmd, err = hopThroughUnshare(cmd, hop, prog); err != nil {
			return nil, err
		}
	}
	if err := startIn(joins, cmd); err != nil {
		return nil, fmt.Errorf("start the container's process: %w", err)
	}
	closeAll() // the child's ends: the status pipe ends when the child's copy does
	defer files.status.Close()
	fail := func(err error) (*exec.Cmd, error) { cmd.Process.Kill(); cmd.Wait(); return nil, err }
	v1, _ := g.SplitDirs()
	for _, d := range v1 {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
			return fail(fmt.Errorf("join cgroup %s: %w", d, err))
		}
	}
	b, _ := json.Marshal(cfg)
	_, err = files.config.Write(b)
	files.config.Close()
	if err != nil {
		return fail(fmt.Errorf("pass the configuration to the container's process: %w", err))
	}
	return cmd, waitReady(files.status, cmd, fail)
}

// waitReady reads the process's status until EOF: "ready", or why it failed.
func waitReady(status *os.File, cmd *exec.Cmd, fail func(error) (*exec.Cmd, error)) error {
	var lines []string
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) == 1 && lines[0] == "ready" {
		return nil
	}
	msg := strings.Join(lines, " ")
	if msg == "" {
		msg = "the container's process ended before it was ready"
	}
	_, err := fail(errors.New(msg))
	return err
}

// initPipes are the descriptors of a starting init: the child's, and
// our ends of the configuration and status pipes.
type initPipes struct {
	child          []*os.File
	config, status *os.File
}

// initFiles opens the descriptors 3-6 of the container's process.
func (r *Runtime) initFiles(id string, console bool, socket string) (*initPipes, func(), error) {
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
		opened = nil
	}
	cr, cw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		cr.Close()
		cw.Close()
		return nil, nil, err
	}
	opened = append(opened, cr, sw)
	fifo, err := os.OpenFile(r.fifo(id), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	opened = append(opened, fifo)
	p := &initPipes{child: []*os.File{cr, fifo, sw}, config: cw, status: sr}
	if console {
		f, err := dialConsole(socket)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		opened = append(opened, f)
		p.child = append(p.child, f)
	}
	return p, closeAll, nil
}

// dialConsole connects to --console-socket: the terminal's master end
// is sent there (SCM_RIGHTS) by the process that makes it.
func dialConsole(socket string) (*os.File, error) {
	if socket == "" {
		return nil, errors.New("process.terminal is true: --console-socket is required")
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("connect to the console socket: %w", err)
	}
	defer conn.Close()
	return conn.(*net.UnixConn).File()
}

// startIn starts cmd from a thread that joined the namespaces in joins
// (setns(2) changes the calling thread; a child inherits the thread's
// namespaces). The thread is never given back: it ends with its goroutine.
func startIn(joins []specs.LinuxNamespace, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		for _, ns := range joins {
			fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				done <- fmt.Errorf("open the %s namespace %s: %w", ns.Type, ns.Path, err)
				return
			}
			err = unix.Setns(fd, int(cloneFlags[ns.Type]))
			unix.Close(fd)
			if err != nil {
				done <- fmt.Errorf("join the %s namespace %s: %w", ns.Type, ns.Path, err)
				return
			}
		}
		done <- cmd.Start()
	}()
	return <-done
}

// hopThroughUnshare makes cmd start as `unshare --ns TYPE=PATH ... --
// /proc/self/fd/N runtime init` instead: setns(2) into a mount namespace
// is refused to a process whose root and working directory are shared
// with another thread (EINVAL), and into a user namespace to any
// multi-threaded process, and a Go program has threads before main. The
// unshare tool (next to this binary) joins them in its C constructor,
// single-threaded, in util-linux nsenter's order (see unshare/nsenter),
// then execs this binary, passed to it as descriptor N, as the
// container's process.
func hopThroughUnshare(cmd *exec.Cmd, hop []specs.LinuxNamespace, prog *os.File) (*exec.Cmd, error) {
	unshare, err := sealedUnshare() // it joins namespaces others may share
	if err != nil {
		return nil, fmt.Errorf("join the %s namespace %s: %w", hop[0].Type, hop[0].Path, err)
	}
	for _, ns := range hop { // the common mistake, in one line before the hop
		if _, err := os.Stat(ns.Path); err != nil {
			return nil, fmt.Errorf("join the %s namespace: %w", ns.Type, err)
		}
	}
	args := []string{"unshare"}
	for _, t := range []specs.LinuxNamespaceType{specs.UserNamespace, specs.MountNamespace} {
		for _, ns := range hop {
			if ns.Type == t {
				args = append(args, "--ns", string(t)+"="+ns.Path) // "user", "mount"
			}
		}
	}
	c := &exec.Cmd{Args: append(args, "--", fmt.Sprintf("/proc/self/fd/%d", 3+len(cmd.ExtraFiles)), "runtime", initArg)}
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	c.ExtraFiles = append(append([]*os.File{}, cmd.ExtraFiles...), prog)
	c.Env, c.SysProcAttr = cmd.Env, cmd.SysProcAttr
	runFd(c, unshare) // unshare's descriptor stays open until the process starts: the caller's Start
	return c, nil
}

// userns maps the new user namespace's IDs. The process is exec'd after
// the clone (runc's init is not: it clones from C, before its Go runtime
// starts), and execve(2) keeps a process's capabilities only if it is
// root in its namespace or holds them as ambient ones: it becomes root
// of the namespace when the maps give it a root, and keeps every
// capability as ambient either way, until the spec's sets replace them.
func userns(attr *syscall.SysProcAttr, spec *specs.Spec) {
	attr.UidMappings = idMaps(spec.Linux.UIDMappings)
	attr.GidMappings = idMaps(spec.Linux.GIDMappings)
	attr.GidMappingsEnableSetgroups = true
	mapsRoot := func(m []specs.LinuxIDMapping) bool {
		for _, x := range m {
			if x.ContainerID == 0 {
				return true
			}
		}
		return false
	}
	if mapsRoot(spec.Linux.UIDMappings) && mapsRoot(spec.Linux.GIDMappings) {
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	for c := 0; c <= int(caps.Last()); c++ {
		attr.AmbientCaps = append(attr.AmbientCaps, uintptr(c))
	}
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	for _, x := range m {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)})
	}
	return out
}

// writePidFile writes pid the way runc does: to a temporary file renamed
// into place, so a reader never sees it half-written.
func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write the pid file: %w", err)
	}
	return os.Rename(tmp, path)
}

// runHooks runs hooks one by one, each given the state on its standard
// input; the first that fails (or outlives its timeout) is the error.
func runHooks(hooks []specs.Hook, state specs.State) error {
	b, _ := json.Marshal(state)
	for _, h := range hooks {
		cmd := exec.Command(h.Path)
		if len(h.Args) > 0 {
			cmd.Args = h.Args
		}
		cmd.Env = h.Env
		cmd.Stdin = strings.NewReader(string(b))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("hook %s: %w", h.Path, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var timeout <-chan time.Time
		if h.Timeout != nil && *h.Timeout > 0 {
			timeout = time.After(time.Duration(*h.Timeout) * time.Second)
		}
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("hook %s: %w: %s", h.Path, err, strings.TrimSpace(out.String()))
			}
		case <-timeout:
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("hook %s: killed after its timeout of %ds", h.Path, *h.Timeout)
		}
	}
	return nil
}

// cmdStart lets a created container's process exec its command: it
// opens the fifo for reading, which unblocks the process's open for
// writing, reads the byte it writes, then waits for the end of the
// fifo, which the process's exec closes: start returns with the command
// running.
func cmdStart(r *Runtime, args []string) error {
	id, err := parseID(flags("start"), args)
	if err != nil {
		return err
	}
	return r.start(id)
}

func (r *Runtime) start(id string) error {
	st, err := r.load(id)
	if err != nil {
		return err
	}
	if st.Status != specs.StateCreated {
		return fmt.Errorf("cannot start a container that is %s", st.Status)
	}
	f, err := os.OpenFile(r.fifo(id), os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.fifo(id), err)
	}
	b := make([]byte, 1)
	n, _ := f.Read(b)
	if n == 1 {
		io.Copy(io.Discard, f) // until the process's exec closes its end
	}
	f.Close()
	os.Remove(r.fifo(id))
	if n != 1 {
		return errors.New("the container's process ended before it ran its command")
	}
	if st.Hooks != nil {
		st.Status = specs.StateRunning
		if err := runHooks(st.Hooks.Poststart, ociState(st)); err != nil {
			fmt.Fprintf(os.Stderr, "%s: warning: %v\n", Tool, err)
		}
	}
	return nil
}

// cmdRun is create then start; without --detach it waits for the
// container's process, returns its exit code and deletes the container.
func cmdRun(r *Runtime, args []string) error {
	var o createOptions
	f := createFlags("run", &o)
	detach := f.BoolP("detach", "d", false, "return once the container runs")
	id, err := parseID(f, args)
	if err != nil {
		return err
	}
	st, err := r.create(id, o)
	if err != nil {
		return err
	}
	// Not our child (create released it): the pidfd says when it ends.
	pidfd, perr := unix.PidfdOpen(st.Pid, 0)
	if err := r.start(id); err != nil {
		r.delete(id, true)
		return err
	}
	if *detach {
		return nil
	}
	if perr != nil {
		return fmt.Errorf("watch the container's process: %w", perr)
	}
	code := waitPidfd(pidfd, st.Pid)
	if err := r.delete(id, true); err != nil {
		return err
	}
	if code != 0 {
		return cli.ExitCode(code)
	}
	return nil
}

// waitPidfd waits for the process, our child, and returns its exit code
// (128+N when killed by signal N).
func waitPidfd(pidfd, pid int) int {
	defer unix.Close(pidfd)
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED, nil)
		if err != unix.EINTR {
			break
		}
	}
	return exitCode(&info)
}
