package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/inside"
)

// execInitArg is the hidden command that ends an exec: inside the
// container's namespaces and root, it sets the process's working
// directory, terminal, filter, user and capabilities, then execs.
const execInitArg = "exec-init"

// execOptions are exec's flags (runc's names).
type execOptions struct {
	process, pidFile, consoleSocket, cwd, user string
	detach, tty                                bool
	env                                        []string
}

// cmdExec runs another process in a running container: `unshare join
// PID` (the namespaces and root of its first process, entered before the
// Go runtime starts, lesson 02), after this process joined the
// container's group, then exec-init inside.
func cmdExec(r *Runtime, args []string) error {
	var o execOptions
	f := flags("exec")
	f.SetInterspersed(false)
	f.StringVarP(&o.process, "process", "p", "", "the process, as config.json's process object, in a file")
	f.StringVar(&o.pidFile, "pid-file", "", "write the process's PID there")
	f.StringVar(&o.consoleSocket, "console-socket", "", "send the terminal's master end on this socket")
	f.StringVar(&o.cwd, "cwd", "", "working directory")
	f.StringVarP(&o.user, "user", "u", "", "UID[:GID]")
	f.BoolVarP(&o.detach, "detach", "d", false, "return once the process runs")
	f.BoolVarP(&o.tty, "tty", "t", false, "a terminal (with --console-socket)")
	f.StringArrayVarP(&o.env, "env", "e", nil, "KEY=VALUE")
	if err := f.Parse(args); err != nil {
		return cli.Usagef(Tool, "exec: %v", err)
	}
	if f.NArg() < 1 || (o.process == "" && f.NArg() < 2) {
		return cli.Usagef(Tool, "exec: want ID and a command (or --process FILE)")
	}
	st, err := r.load(f.Arg(0))
	if err != nil {
		return err
	}
	if st.Status != specs.StateRunning && st.Status != specs.StateCreated {
		return fmt.Errorf("cannot exec in a container that is %s", st.Status)
	}
	spec, _, err := loadBundle(st.Bundle)
	if err != nil {
		return err
	}
	if err := execProcess(spec, &o, f.Args()[1:]); err != nil {
		return err
	}
	return r.execIn(st, spec, &o)
}

// execProcess sets spec.Process to the process to exec: --process's
// file, or the container's process with exec's command and flags.
func execProcess(spec *specs.Spec, o *execOptions, argv []string) error {
	if o.process != "" {
		b, err := os.ReadFile(o.process)
		if err != nil {
			return fmt.Errorf("read --process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("read --process %s: %w", o.process, err)
		}
		spec.Process = &p
	} else {
		spec.Process.Args, spec.Process.Terminal = argv, o.tty
		spec.Process.Env = append(spec.Process.Env, o.env...)
		if o.cwd != "" {
			spec.Process.Cwd = o.cwd
		}
		if o.user != "" {
			u, g, _ := strings.Cut(o.user, ":")
			if g == "" {
				g = "0"
			}
			uid, err1 := strconv.ParseUint(u, 10, 31)
			gid, err2 := strconv.ParseUint(g, 10, 31)
			if err1 != nil || err2 != nil {
				return cli.Usagef(Tool, "exec --user %q: want UID[:GID], each from 0 to 2147483647", o.user)
			}
			spec.Process.User = specs.User{UID: uint32(uid), GID: uint32(gid)}
		}
	}
	if len(spec.Process.Args) == 0 {
		return fmt.Errorf("exec: the process has no args")
	}
	if spec.Process.Cwd == "" {
		spec.Process.Cwd = "/"
	}
	return checkProcess(spec.Process)
}

// checkProcess refuses, in runc's words, a process the kernel would
// run otherwise than it says: an ID of 2^31 or more (4294967295 is -1,
// which setresuid takes as "unchanged": the process would stay root),
// and a relative cwd (without a mount namespace it would be resolved
// from the runtime's own folder, on the host).
func checkProcess(p *specs.Process) error {
	ids := append([]uint32{p.User.UID, p.User.GID}, p.User.AdditionalGids...)
	for _, id := range ids {
		if id > math.MaxInt32 {
			return errors.New("uids and gids must be in range 0-2147483647")
		}
	}
	if p.Cwd != "" && !filepath.IsAbs(p.Cwd) {
		//lint:ignore ST1005 runc's own words
		return errors.New("Cwd must be an absolute path")
	}
	return nil
}

// sealedUnshare opens the unshare tool read-only (a read-only mount of
// it, or a sealed copy: launch.ReadOnlyExecutable), as this binary is:
// it joins a running container's namespaces, where the container's
// processes see it in /proc and could reopen its file for writing
// through /proc/PID/exe (CVE-2019-5736). Its re-exec (/proc/self/exe)
// stays on the read-only file.
func sealedUnshare() (*os.File, error) {
	path, err := unshareTool()
	if err != nil {
		return nil, err
	}
	return launch.ReadOnlyExecutable(path)
}

// runFd makes cmd run the program f, passed to it as its last
// descriptor (/proc/self/fd/N), not a path of the host's.
func runFd(cmd *exec.Cmd, f *os.File) {
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	cmd.Path = fmt.Sprintf("/proc/self/fd/%d", 2+len(cmd.ExtraFiles))
}

// unshareTool is the unshare tool next to this binary: exec, and create
// when it joins a mount or user namespace, hop through it (its C
// constructor joins namespaces before its Go runtime starts threads).
func unshareTool() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	self, _ = filepath.EvalSymlinks(self)
	unshare := filepath.Join(filepath.Dir(self), "unshare")
	if _, err := os.Stat(unshare); err != nil {
		return "", fmt.Errorf("needs the unshare tool next to %s: %w", self, err)
	}
	return unshare, nil
}

// execIn joins the group, then starts `unshare join PID -- exec-init`
// with this binary and the configuration as descriptors.
func (r *Runtime) execIn(st *State, spec *specs.Spec, o *execOptions) error {
	g, err := group(st)
	if err != nil {
		return err
	}
	if err := g.Join(os.Getpid(), nil); err != nil {
		return err
	}
	unshare, err := sealedUnshare()
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	defer unshare.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	prog, err := launch.ReadOnlyExecutable(self) // CVE-2019-5736, as for create's process
	if err != nil {
		return err
	}
	defer prog.Close()
	cr, cw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer cr.Close()
	b, _ := json.Marshal(initConfig{Spec: spec, Console: spec.Process.Terminal})
	_, err = cw.Write(b)
	cw.Close()
	if err != nil {
		return err
	}
	// The configuration on 3 (as for create's init), this binary on 4,
	// the unshare tool last (runFd).
	cmd := &exec.Cmd{Args: []string{"unshare", "join", strconv.Itoa(st.Pid), "--", "/proc/self/fd/4", "runtime", execInitArg}}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{cr, prog}
	cmd.Env = []string{}
	if spec.Process.Terminal {
		conn, err := dialConsole(o.consoleSocket)
		if err != nil {
			return err
		}
		defer conn.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, nil, conn)
		cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	}
	runFd(cmd, unshare)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec: start %s: %w", unshare.Name(), err)
	}
	if o.pidFile != "" {
		if err := writePidFile(o.pidFile, cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			return err
		}
	}
	if o.detach {
		return cmd.Process.Release()
	}
	err = cmd.Wait()
	if code := cli.CodeOf(err); err != nil && code != 0 {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			return cli.ExitCode(cli.WaitStatusCode(ws))
		}
		return err
	}
	return nil
}

// cmdExecInit is the exec'd process's last hop, in the container: the
// same last steps as the container's first process (finish).
func cmdExecInit(_ *Runtime, _ []string) error {
	cfg, err := readInitConfig()
	if err != nil {
		return err
	}
	p := cfg.Spec.Process
	if err := unix.Chdir(p.Cwd); err != nil {
		return fmt.Errorf("chdir to %s: %w", p.Cwd, err)
	}
	if cfg.Console {
		if err := inside.MakeConsole(strconv.Itoa(consoleFd)); err != nil {
			return err
		}
	}
	if _, err := cli.LookPath(p.Args[0], p.Env); err != nil {
		return err
	}
	l, err := lastSteps(cfg.Spec)
	if err != nil {
		return err
	}
	return l.finish(p)
}
