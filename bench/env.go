package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mini-docker/bench/proc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"mini-docker/internal/testenv"
	"mini-docker/pull/store"
)

// Env is what every benchmark shares: the toolkit, a loopback registry
// holding the test images, a temporary state root with the debian image
// already pulled ("cached image"), the same image's root filesystem
// mounted once for runc and the floor, and a network namespace that plays
// the host for everything that makes network objects.
type Env struct {
	Opt       Options
	Tmp       string // everything the bench makes on disk lives here
	Root      string // mini-docker's state root (MINI_DOCKER_ROOT)
	Reg       *testenv.Registry
	Ref       string // the debian image on the registry
	Layers    []string
	Rootfs    string // overlay of Layers, for runc and the floor
	Netns     string // name under /run/netns of the namespace playing the host
	Bundle    string // runc's OCI bundle (config.json + rootfs)
	RuncRoot  string
	Docker    bool   // a Docker engine answers
	NoDocker  string // why not
	RefShort  string // Ref for the table
	SourceBin string // where the tools were copied from

	undo []func()
}

var toolNames = []string{"mini-docker", "pull", "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside"}

// MD is the path of the mini-docker binary under test.
func (e *Env) MD() string { return filepath.Join(e.Opt.Bin, "mini-docker") }

// runs picks the number of timed runs.
func (e *Env) runs(full, quick int) int {
	if e.Opt.Quick {
		return quick
	}
	return full
}

// Close undoes everything Setup and the benchmarks registered, last first.
func (e *Env) Close() {
	for i := len(e.undo) - 1; i >= 0; i-- {
		e.undo[i]()
	}
	e.undo = nil
}

func (e *Env) onClose(f func()) { e.undo = append(e.undo, f) }

// Setup builds the shared environment.
func Setup(o Options) (*Env, error) {
	for _, t := range toolNames {
		if _, err := os.Stat(filepath.Join(o.Bin, t)); err != nil {
			return nil, fmt.Errorf("%s not built in %s (run make build): %w", t, o.Bin, err)
		}
	}
	for _, c := range []string{"hyperfine", "runc", "docker-registry", "skopeo", "umoci", "curl", "ip"} {
		if _, err := exec.LookPath(c); err != nil {
			return nil, fmt.Errorf("%s not installed (run: sudo make setup)", c)
		}
	}
	e := &Env{Opt: o}
	// A disk-backed folder (not tmpfs), as /var/lib/mini-docker and
	// /var/lib/docker are, so pulls pay the same writes.
	tmp, err := os.MkdirTemp("/var/tmp", "mini-docker-bench-")
	if err != nil {
		return e, err
	}
	e.Tmp = tmp
	e.onClose(func() { removeIfUnmounted(tmp) })
	e.Root = filepath.Join(tmp, "root")
	// The tools are copied first: the checkout's bin/ may be rebuilt
	// while the bench runs, and a run must time one build throughout.
	if err := e.snapshotBin(); err != nil {
		return e, err
	}

	logf("starting a docker-registry on loopback and pushing debian (skopeo)")
	reg, err := testenv.StartRegistry(testenv.RegistryOptions{})
	if err != nil {
		return e, err
	}
	e.Reg = reg
	e.onClose(reg.Stop)
	if err := testenv.PushStandardImages(reg); err != nil {
		return e, fmt.Errorf("push test images: %w", err)
	}
	e.Ref = reg.Ref(testenv.DebianRepo)
	e.RefShort = "debian:bookworm (loopback registry)"

	logf("pulling %s into %s", e.Ref, e.Root)
	if out, err := exec.Command(e.MD(), "--root", e.Root, "pull", "-q", e.Ref).CombinedOutput(); err != nil {
		return e, fmt.Errorf("mini-docker pull: %v\n%s", err, out)
	}
	s, err := store.Open(e.Root)
	if err != nil {
		return e, err
	}
	img, err := s.Lookup(e.Ref)
	if err != nil {
		return e, err
	}
	e.Layers = img.LayerDirs

	if err := e.mountRootfs(); err != nil {
		return e, err
	}
	if err := e.makeNetns(); err != nil {
		return e, err
	}
	e.onClose(e.removeContainers)
	if err := e.makeBundle(); err != nil {
		return e, err
	}
	e.setupDocker()
	return e, nil
}

// mountRootfs mounts the image's layers once, as Docker's graph driver
// would for a container, so runc and the floor start from the very same
// files mini-docker's overlay shows.
func (e *Env) mountRootfs() error {
	dir := filepath.Join(e.Tmp, "rootfs")
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	lower := make([]string, len(e.Layers))
	for i, l := range e.Layers { // overlay wants the top layer first
		lower[len(e.Layers)-1-i] = l
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work)
	if out, err := exec.Command("mount", "-t", "overlay", "overlay", "-o", opts, merged).CombinedOutput(); err != nil {
		return fmt.Errorf("mount overlay for runc: %v %s", err, out)
	}
	e.onClose(func() { exec.Command("umount", merged).Run() })
	e.Rootfs = merged
	return nil
}

// makeNetns makes the network namespace that plays the host: bridge
// runs make their bridge, veths and netns there, never in the real
// host's namespace.
func (e *Env) makeNetns() error {
	b := make([]byte, 4)
	rand.Read(b)
	e.Netns = "mdb-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", e.Netns).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v %s", e.Netns, err, out)
	}
	e.onClose(func() { exec.Command("ip", "netns", "del", e.Netns).Run() })
	if out, err := exec.Command("ip", "-n", e.Netns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip -n %s link set lo up: %v %s", e.Netns, err, out)
	}
	return nil
}

// setupDocker checks the engine and loads the image into it from the
// same loopback registry (Docker treats 127.0.0.0/8 registries as
// insecure, so plain HTTP works).
func (e *Env) setupDocker() {
	if _, err := exec.LookPath("docker"); err != nil {
		e.NoDocker = "docker not installed"
		return
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		e.NoDocker = "no Docker engine answers (start one with scripts/dockerd)"
		return
	}
	if out, err := exec.Command("docker", "pull", "-q", e.Ref).CombinedOutput(); err != nil {
		e.NoDocker = fmt.Sprintf("docker pull %s failed: %v %s", e.Ref, err, strings.TrimSpace(string(out)))
		return
	}
	e.Docker = true
	e.onClose(func() { exec.Command("docker", "rmi", "-f", e.Ref).Run() })
}

// removeContainers removes whatever containers a failed benchmark left
// in the bench's root (inside the bench netns, where bridge ones live).
func (e *Env) removeContainers() { e.removeContainersOf(e.MD(), e.Root) }

// removeContainersOf removes every container the mini-docker md holds
// in the state root root.
func (e *Env) removeContainersOf(md, root string) {
	out, _ := exec.Command(md, "--root", root, "ps", "-aq", "--no-trunc").Output()
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return
	}
	e.RunInNetns(exec.Command(md, append([]string{"--root", root, "rm", "-f"}, ids...)...))
}

// removeIfUnmounted removes dir unless something is still mounted under
// it (then removing would reach into the mount: it says so instead).
func removeIfUnmounted(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			logf("NOT removing %s: %s is still mounted", dir, f[4])
			return
		}
	}
	os.RemoveAll(dir)
}

// snapshotBin copies the built tools into the bench's folder and points
// Opt.Bin there (the tools find their siblings next to themselves).
func (e *Env) snapshotBin() error {
	dst := filepath.Join(e.Tmp, "bin")
	if err := copyTools(e.Opt.Bin, dst); err != nil {
		return err
	}
	e.SourceBin = e.Opt.Bin
	e.Opt.Bin = dst
	return nil
}

// copyTools copies the toolkit's programs from the folder src into dst.
func copyTools(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, t := range toolNames {
		// As cp: one write of the whole file (os.WriteFile) gets 2 MiB page
		// cache folios on ext4, each mapped whole on a first fault in it:
		// a monitor then read 8.4 MiB RSS instead of 3.9 (FilePmdMapped).
		if out, err := exec.Command("cp", filepath.Join(src, t), filepath.Join(dst, t)).CombinedOutput(); err != nil {
			return fmt.Errorf("cp %s: %v: %s", t, err, out)
		}
	}
	return nil
}

// Cmd is one command hyperfine times (package proc).
type Cmd = proc.Cmd

// timer times commands in e: its scratch folder, its state root, its
// namespace playing the host.
func (e *Env) timer() proc.Timer {
	return proc.Timer{Tmp: e.Tmp, Root: e.Root, StartInNetns: e.startInNetns, Logf: logf}
}

// Hyperfine times c in e (proc.Timer.Hyperfine).
func Hyperfine(e *Env, c Cmd, warmup, runs int) ([]float64, error) {
	return e.timer().Hyperfine(c, warmup, runs)
}

// Rounds times cmds in rounds in e, each round begun by the next
// (proc.Timer.Rounds).
func Rounds(e *Env, cmds []Cmd, runs, rounds int) ([][]float64, error) {
	return e.timer().Rounds(cmds, runs, rounds)
}

// Interleaved times a and b in alternating rounds in e (proc.Timer.Interleaved).
func Interleaved(e *Env, a, b Cmd, runs, rounds int) (as, bs []float64, err error) {
	return e.timer().Interleaved(a, b, runs, rounds)
}
