package lessonrun

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// The sandbox is where a lesson runs, for the runner (Run) and for a
// learner (Shell) alike: a scratch folder as the working directory, new
// network, mount and UTS namespaces that play the host, and the
// variables the lessons use. One definition, so what a learner types
// into `make shell` meets what `make lessons` checked.

// sandbox is a lesson's scratch folder (its working directory), the
// runner's private folder next to it, and the children this process had
// before the lesson.
type sandbox struct {
	scratch, ctl string
	before       map[int]bool
}

// openSandbox makes the folders, and makes this process a child
// subreaper: it inherits every orphan the lesson makes (daemons,
// detached monitors), so close can end them all.
func openSandbox() (*sandbox, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	sb := &sandbox{before: children()}
	var err error
	if sb.scratch, err = os.MkdirTemp("", "lesson-"); err != nil {
		return nil, err
	}
	if sb.ctl, err = os.MkdirTemp("", "lesson-ctl-"); err != nil {
		os.RemoveAll(sb.scratch)
		return nil, err
	}
	return sb, nil
}

// close kills every process the lesson left and removes the folders.
func (sb *sandbox) close() {
	killNewChildren(sb.before)
	os.RemoveAll(sb.scratch)
	os.RemoveAll(sb.ctl)
}

// sandboxEnv is the lesson shell's environment: the built bin/ first on
// PATH, a home and a mini-docker state root of the lesson's own, and the
// lesson's inputs ($DEBIAN_TAR, $BUSYBOX, $REGISTRY).
func sandboxEnv(scratch, ctl string, opts Options) []string {
	home := filepath.Join(ctl, "home")
	os.MkdirAll(home, 0o700)
	env := []string{
		"PATH=" + opts.BinDir + ":" + os.Getenv("PATH"),
		"HOME=" + home,
		"LANG=C.UTF-8",
		"TERM=dumb",
		"MINI_DOCKER_ROOT=" + filepath.Join(scratch, ".mini-docker"),
		"DEBIAN_TAR=" + os.Getenv("DEBIAN_TAR"),
		"BUSYBOX=" + testenv.BusyboxPath,
	}
	if opts.RegistryStorage != "" {
		env = append(env, "REGISTRY="+RegistryAddr)
	}
	return append(env, opts.Env...)
}

// sandboxAttr puts the shell in new network, mount and UTS namespaces
// (clone(2) with CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWUTS: `unshare -nmu`),
// and kills it if the process that started it dies.
func sandboxAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
	}
}

// preludeScript is what the shell runs first, inside its namespaces, to
// make them a safe stand-in for the host: mounts receive the host's but
// never propagate back (slave, then shared among the lesson's own
// mounts, so lessons still meet shared propagation), the loopback link
// is up, a fixed hostname, and the lesson's registry. ctl is the
// runner's private folder (the registry's configuration goes there).
func preludeScript(opts Options, ctl string) (string, error) {
	// /run/netns and /run/mini-docker get a tmpfs of the lesson's own, so
	// names the lesson gives (ip netns add red) never meet the host's.
	script := `mount --make-rslave / && mount --make-rshared / && hostname workshop && ip link set lo up && ` +
		`mkdir -p /run/netns /run/mini-docker && mount -t tmpfs lesson-netns /run/netns && ` +
		`mount -t tmpfs lesson-run /run/mini-docker`
	if opts.RegistryStorage != "" {
		cfgPath := filepath.Join(ctl, "registry.yml")
		cfg := testenv.RegistryConfig(RegistryAddr, opts.RegistryStorage)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return "", err
		}
		// setsid -f: the registry is not a job of the lesson's shell, so a
		// bare `wait` in a lesson does not wait for it.
		script += fmt.Sprintf(` && setsid -f docker-registry serve %s >%s.log 2>&1 && `+
			`for i in $(seq 200); do curl -sf http://%s/v2/ >/dev/null && break; sleep 0.05; done && `+
			`curl -sf http://%s/v2/ >/dev/null`, cfgPath, cfgPath, RegistryAddr, RegistryAddr)
	}
	return script, nil
}
