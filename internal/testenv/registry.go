package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv/dockerimages"
)

// Registry is a real distribution v2 registry (Debian's docker-registry)
// listening on loopback, with its own storage folder.
type Registry struct {
	Addr       string // "127.0.0.1:PORT"
	StorageDir string // the registry's filesystem storage root
	ConfigFile string
	User, Pass string // set when started with basic auth

	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	dir    string
	logf   string
	pushed map[string]bool
	mu     sync.Mutex
}

// RegistryOptions configure NewRegistry.
type RegistryOptions struct {
	// StorageDir reuses an existing storage folder (default: a new one).
	StorageDir string
	// User and Pass turn on basic auth (htpasswd, bcrypt).
	User, Pass string
	// ReadOnly serves pulls and refuses every push (the registry's
	// maintenance read-only mode).
	ReadOnly bool
}

var (
	sharedMu  sync.Mutex
	sharedReg *Registry

	startedMu sync.Mutex
	started   []*Registry
)

// SharedRegistry returns the registry shared by every test of this test
// process, started on first use and stopped by Main. Tests may push to it
// but must not damage what others read: use NewRegistry for that.
func SharedRegistry(t testing.TB) *Registry {
	t.Helper()
	RequireCommand(t, "docker-registry")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedReg == nil {
		r, err := StartRegistry(RegistryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sharedReg = r
	}
	return sharedReg
}

// NewRegistry starts a registry of the test's own, stopped when the test
// ends.
func NewRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	RequireCommand(t, "docker-registry")
	r, err := StartRegistry(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// StartRegistry starts a registry; the caller must Stop it.
func StartRegistry(opts RegistryOptions) (*Registry, error) {
	dir, err := os.MkdirTemp("", "mini-docker-registry-")
	if err != nil {
		return nil, err
	}
	r := &Registry{dir: dir, StorageDir: opts.StorageDir, pushed: map[string]bool{}}
	if r.StorageDir == "" {
		r.StorageDir = filepath.Join(dir, "storage")
	}
	auth := ""
	if opts.User != "" {
		r.User, r.Pass = opts.User, opts.Pass
		out, err := exec.Command("htpasswd", "-Bbn", opts.User, opts.Pass).Output()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("htpasswd (apache2-utils): %w", err)
		}
		htp := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htp, out, 0o600); err != nil {
			return nil, err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: mini-docker-test\n    path: %s\n", htp)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		r.ConfigFile = filepath.Join(dir, "config.yml")
		cfg := RegistryConfig(r.Addr, r.StorageDir) + auth
		if opts.ReadOnly {
			cfg = strings.Replace(cfg, "    uploadpurging:\n", "    readonly:\n      enabled: true\n    uploadpurging:\n", 1)
		}
		if err := os.WriteFile(r.ConfigFile, []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		r.logf = filepath.Join(dir, "registry.log")
		if lastErr = r.start(); lastErr == nil {
			startedMu.Lock()
			started = append(started, r)
			startedMu.Unlock()
			return r, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// RegistryConfig is the docker-registry configuration used everywhere
// (tests, lessons, the demo): filesystem storage, deletes allowed, quiet.
func RegistryConfig(addr, storage string) string {
	return fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: mini-docker-test
`, storage, addr)
}

// start launches the process from a thread that lives as long as the
// test process, so PR_SET_PDEATHSIG (which fires when the creating
// thread exits) kills the registry only when the test process dies.
func (r *Registry) start() error {
	logFile, err := os.Create(r.logf)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command("docker-registry", "serve", r.ConfigFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives on
		errc <- cmd.Start()
		select {}
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("start docker-registry: %w", err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited = cmd, exited
	go func() { cmd.Wait(); close(exited) }()
	// Generous: under emulation (the VM matrix's TCG guests) the registry
	// took longer than 15 s to answer its first request.
	deadline := time.Now().Add(startWithin)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			b, _ := os.ReadFile(r.logf)
			return fmt.Errorf("docker-registry exited at start: %s", strings.TrimSpace(string(b)))
		default:
		}
		resp, err := http.Get("http://" + r.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Only the process: the folder (config, storage) is the next attempt's.
	r.kill()
	return fmt.Errorf("docker-registry on %s did not answer within %v", r.Addr, startWithin)
}

// startWithin is how long a starting registry has to answer.
const startWithin = 2 * time.Minute

// Stop ends the registry process and removes its folder (and the
// storage, unless it was given by the caller), and what tests left of
// its images in Docker's engine (dockerimages.Forget).
func (r *Registry) Stop() {
	r.kill()
	os.RemoveAll(r.dir)
	dockerimages.Forget(r.Addr)
}

// kill ends the registry's process and waits until it is gone: reaped
// by start's Wait, not only signalled (a killed process with many
// threads takes a while to exit on a loaded host, and stays a zombie
// until reaped). The minute only bounds a process that never exits.
func (r *Registry) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		select {
		case <-r.exited:
		case <-time.After(time.Minute):
		}
	}
}

// Ref returns the full reference of repoTag ("library/busybox:latest") on
// this registry.
func (r *Registry) Ref(repoTag string) string { return r.Addr + "/" + repoTag }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func stopShared() {
	sharedMu.Lock()
	sharedReg = nil
	sharedMu.Unlock()
	startedMu.Lock()
	defer startedMu.Unlock()
	for _, r := range started {
		r.Stop()
	}
	started = nil
}
