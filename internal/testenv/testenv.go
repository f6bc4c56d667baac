// Package testenv is the toolkit's test environment: root and kernel
// checks, the built binaries, a real registry on loopback holding images
// made offline, and network namespaces that play the host.
//
// Rules it enforces:
//   - A test that needs root calls RequireRoot. Without root it is skipped
//     with the reason, except when CI=true: CI runs as root, so a skip
//     there would hide untested code and is a failure instead.
//   - A test that needs a kernel feature calls RequireFeature, which skips
//     with the exact reason when the feature is missing.
//   - Everything started here (registry processes, namespaces) is stopped
//     by the test's Cleanup or by Main at the end of the package's run.
//
// It belongs to no one lesson: the tests of every lesson use it.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// InCI reports whether the tests run in CI (CI=true), where skips for
// missing root are failures.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireRoot skips t unless the test runs as root (fails it in CI).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatal("needs root, and CI=true: CI must run these tests as root")
	}
	t.Skip("needs root (run: sudo make test)")
}

// RequireFeature skips t with reason when ok is false.
func RequireFeature(t testing.TB, ok bool, reason string) {
	t.Helper()
	if !ok {
		t.Skip("kernel or host lacks a feature: " + reason)
	}
}

// RequireCommand skips t when a host command is missing (fails in CI,
// where make setup installs every command the tests use).
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("needs %q on PATH, and CI=true: make setup should have installed it", name)
	}
	t.Skipf("needs %q on PATH (run: sudo make setup)", name)
	return ""
}

// RepoRoot returns the checkout's top folder (the one holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	binMu  sync.Mutex
	binDir string
	built  = map[string]error{}
)

// PrebuiltBinEnv names a folder of programs already built by make build
// (scripts/vm-matrix sets it to the checkout's bin/ in a VM, where building
// them again under emulation would cost minutes): Bin takes its programs
// from there instead of building them.
const PrebuiltBinEnv = "MINI_DOCKER_TEST_BIN"

// Bin builds the toolkit program name (a tool like "cgroupctl", or a helper
// like "hog") with scripts/build, the same way make does, once per test
// process, and returns the path of the binary. All programs land in one
// folder, so tools that look for their siblings next to themselves find
// them (call Bin for each one needed, or BinDir after building; Bin of
// mini-docker builds the programs it runs commands in too). With
// MINI_DOCKER_TEST_BIN set, that folder is the prebuilt one.
func Bin(t testing.TB, name string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if d := os.Getenv(PrebuiltBinEnv); d != "" {
		if _, err := os.Stat(filepath.Join(d, name)); err != nil {
			t.Fatalf("%s=%s: %v (run make build first)", PrebuiltBinEnv, d, err)
		}
		return filepath.Join(d, name)
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "mini-docker-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	err, done := built[name]
	if !done {
		cmd := exec.Command("bash", filepath.Join(RepoRoot(), "scripts", "build"), name, binDir)
		cmd.Dir = RepoRoot()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err = cmd.Run(); err != nil {
			err = fmt.Errorf("build %s: %v\n%s", name, err, out.String())
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	if name == "mini-docker" {
		// mini-docker runs build, commit and import in mini-docker-build
		// and serve in mini-docker-serve, found beside it.
		for _, c := range []string{"mini-docker-build", "mini-docker-serve"} {
			if _, done := built[c]; !done {
				binMu.Unlock()
				Bin(t, c)
				binMu.Lock()
			}
		}
	}
	return filepath.Join(binDir, name)
}

// BinDir returns the folder Bin builds into (empty before the first Bin).
func BinDir() string {
	if d := os.Getenv(PrebuiltBinEnv); d != "" {
		return d
	}
	binMu.Lock()
	defer binMu.Unlock()
	return binDir
}

// Main wraps testing.M.Run for packages that use the shared registry or
// built binaries: it stops what was started and removes the binaries.
// Use it as: func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	stopShared()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Run runs a command and returns its combined output and exit code,
// failing the test only when the command could not be started.
func Run(t testing.TB, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	return RunCmd(t, cmd)
}

// RunCmd runs cmd and returns its combined output and exit code.
func RunCmd(t testing.TB, cmd *exec.Cmd) (string, int) {
	t.Helper()
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	err := cmd.Run()
	if err != nil {
		if x, ok := err.(*exec.ExitError); ok {
			return out.String(), x.ExitCode()
		}
		t.Fatalf("run %s: %v", strings.Join(cmd.Args, " "), err)
	}
	return out.String(), 0
}

// Mounts returns the mount points of the calling process's mount
// namespace, from /proc/self/mountinfo, for leak checks.
func Mounts(t testing.TB) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			m[f[4]] = true
		}
	}
	return m
}

// NoNewMounts registers a cleanup that fails t if mounts appeared during
// the test under the test's own temporary folders (or under the given
// prefixes) and are still there at its end. Only those paths are checked:
// go test runs packages in parallel, and other packages' tests mount
// elsewhere at the same time.
func NoNewMounts(t testing.TB, prefixes ...string) {
	t.Helper()
	if len(prefixes) == 0 {
		prefixes = []string{filepath.Dir(t.TempDir())}
	}
	before := Mounts(t)
	t.Cleanup(func() {
		for mp := range Mounts(t) {
			if before[mp] {
				continue
			}
			for _, p := range prefixes {
				if mp == p || strings.HasPrefix(mp, strings.TrimSuffix(p, "/")+"/") {
					t.Errorf("mount left behind: %s", mp)
					break
				}
			}
		}
	})
}

// Integration marks t as an integration test: skipped under -short (make
// test-unit), and then held to RequireRoot.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	RequireRoot(t)
}

// SmallDisk mounts a tmpfs of size bytes for the test (unmounted at its
// end): a filesystem the test may fill, as a hostile archive would.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}
