package ociruntime

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/capctl/caps"
	"mini-docker/chroot/jail"
	"mini-docker/internal/cli"
	"mini-docker/internal/rlimit"
	"mini-docker/mini-docker/inside"
	"mini-docker/mini-docker/ociruntime/convert"
	"mini-docker/seccompctl/seccomp"
	"mini-docker/vethctl/network"
)

// initArg is the hidden command of the container's process: runc's
// `runc init`, in our terms.
const initArg = "init"

// cmdInit is the container's process. Cloned by create into the new
// namespaces and the group, it builds the container up to the last step
// before the command, says "ready", waits on the fifo for start, then
// drops to the spec's user, capabilities and filter and execs. It returns
// only on failure.
func cmdInit(_ *Runtime, _ []string) error {
	// Every per-thread step (mounts, cgroup namespace, credentials,
	// capabilities, filter) is this thread's, and the exec must be too.
	runtime.LockOSThread()
	status := os.NewFile(statusFd, "status")
	// The host's /proc, kept for the fifo: the container may have no
	// /proc of its own (no mount namespace, or none in its mounts).
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /proc: %w", err)
	}
	cfg, err := readInitConfig()
	if err == nil {
		err = prepare(cfg)
	}
	var l *last
	if err == nil {
		l, err = lastSteps(cfg.Spec)
	}
	if err != nil {
		fmt.Fprintf(status, "%v\n", err)
		return cli.WithCode(err, 125)
	}
	io.WriteString(status, "ready\n")
	status.Close()
	// Blocks until `start` opens the fifo for reading (or delete kills us).
	fifo, err := unix.Openat(proc, "self/fd/"+strconv.Itoa(fifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec.fifo: %w", err)
	}
	// Kept open: it closes at the exec (O_CLOEXEC), and start waits for
	// that, so that it returns with the command running, not with this
	// process still dropping its privileges (a docker exec at once found
	// the runtime's init as PID 1).
	unix.Write(fifo, []byte("0"))
	unix.Close(proc)
	return l.finish(cfg.Spec.Process)
}

func readInitConfig() (*initConfig, error) {
	f := os.NewFile(configFd, "config")
	defer f.Close()
	var cfg initConfig
	if err := json.NewDecoder(f).Decode(&cfg); err != nil {
		return nil, fmt.Errorf("read the container's configuration: %w", err)
	}
	unix.CloseOnExec(fifoFd)
	return &cfg, nil
}

// prepare is everything that can fail before start: the cgroup
// namespace, hostname, sysctls, the root and its mounts, the
// terminal, and the command looked up.
func prepare(cfg *initConfig) error {
	s := cfg.Spec
	if cfg.NewCgroupNS {
		// After create put us in the group: the namespace's root is it.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare a cgroup namespace: %w", err)
		}
	}
	if hasNewNS(s, specs.UTSNamespace) {
		if s.Hostname != "" {
			if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
				return fmt.Errorf("sethostname: %w", err)
			}
		}
		if s.Domainname != "" {
			if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
				return fmt.Errorf("setdomainname: %w", err)
			}
		}
	}
	for k, v := range s.Linux.Sysctl {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	if s.Process.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*s.Process.OOMScoreAdj)), 0); err != nil {
			return fmt.Errorf("oom_score_adj: %w", err)
		}
	}
	if hasNewNS(s, specs.NetworkNamespace) {
		if err := network.LoopbackUp(); err != nil {
			return err
		}
	}
	if hasNS(s, specs.MountNamespace) {
		// A new mount namespace, or one joined by path: the root is made
		// in it either way, as runc does.
		o := convert.JailOptions(s, cfg.Rootfs, filepath.Dir(cfg.Rootfs))
		o.JoinedMountNamespace = !hasNewNS(s, specs.MountNamespace)
		if _, err := jail.Enter(o, nil); err != nil {
			return err
		}
	} else if err := unix.Chroot(cfg.Rootfs); err != nil {
		return fmt.Errorf("chroot %s: %w", cfg.Rootfs, err)
	}
	if err := unix.Chdir(s.Process.Cwd); err != nil {
		return fmt.Errorf("chdir to process.cwd %s: %w", s.Process.Cwd, err)
	}
	if cfg.Console {
		if err := inside.MakeConsole(strconv.Itoa(consoleFd)); err != nil {
			return err
		}
	}
	s.Process.Env = withHome(s.Process.Env, int(s.Process.User.UID))
	if _, err := cli.LookPath(s.Process.Args[0], s.Process.Env); err != nil {
		return err
	}
	return nil
}

// withHome adds HOME when the spec's env has none: the user's home in
// the container's /etc/passwd, or "/", as runc does.
func withHome(env []string, uid int) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	home := "/"
	if u, err := caps.LookupUser("/", strconv.Itoa(uid), nil); err == nil && u.Home != "" {
		home = u.Home
	}
	return append(env, "HOME="+home)
}

// last is what the steps after start need, made before it: the
// compiled filter and the capability sets. Compiling the filter is the
// slow part; done before "ready", a signal sent once start has returned
// meets the command (or, for an instant, this process), not a runtime
// still compiling (runtime-tools' killsig), and a bad filter fails
// create, as runc's does.
type last struct {
	prog *seccomp.Program
	cs   caps.Spec
}

func lastSteps(s *specs.Spec) (*last, error) {
	prog, err := compileSeccomp(s)
	if err != nil {
		return nil, err
	}
	cs, err := convert.CapsSpec(s.Process)
	if err != nil {
		return nil, err
	}
	return &last{prog, cs}, nil
}

// finish is the last steps, after start: the filter, the user and
// capabilities (capctl's order), and the exec. With no_new_privs the
// filter comes last, as runc does, so that as few system calls as
// possible run under it; without it, the filter must be loaded while
// CAP_SYS_ADMIN is still held.
func (l *last) finish(p *specs.Process) error {
	prog, cs := l.prog, l.cs
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	}
	// The rlimits last, with CAP_SYS_RESOURCE still held: an RLIMIT_AS
	// of 1 GiB set earlier starved this Go process itself ("fatal error:
	// runtime: out of memory" in runtime-tools' process_rlimits).
	if err := rlimit.Set(p.Rlimits); err != nil {
		return err
	}
	if prog != nil && !p.NoNewPrivileges {
		if err := seccomp.Install(prog, nil); err != nil {
			return err
		}
	}
	if err := caps.Apply(cs, nil); err != nil {
		return err
	}
	if prog != nil && p.NoNewPrivileges {
		if err := seccomp.Install(prog, nil); err != nil {
			return err
		}
	}
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	err := cli.Exec(p.Args, p.Env)
	return cli.WithCode(err, cli.CodeOf(err))
}

// compileSeccomp compiles linux.seccomp (the same JSON as a Docker
// profile) with seccompctl's compiler, for the capabilities the process
// keeps.
func compileSeccomp(s *specs.Spec) (*seccomp.Program, error) {
	if s.Linux.Seccomp == nil {
		return nil, nil
	}
	b, err := json.Marshal(s.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	prof, err := seccomp.ParseProfile(b, "linux.seccomp")
	if err != nil {
		return nil, err
	}
	var keep []string
	if c := s.Process.Capabilities; c != nil {
		keep = c.Bounding
	}
	set, err := seccomp.ParseCaps(strings.Join(keep, ","))
	if err != nil {
		return nil, err
	}
	_, prog, err := seccomp.Build(prof, seccomp.Options{Caps: set})
	return prog, err
}

// hasNS reports whether the spec names a namespace of type t, new or
// joined by path.
func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// hasNewNS reports whether the spec asks for a new namespace of type t.
func hasNewNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}
