// Package compare runs the same container under Docker and under
// mini-docker and lines up what each one looks like from inside.
//
// The model: a static probe (lessons/cmd/probe) is bind-mounted read-only
// into both containers and prints "key: value" lines (capabilities,
// mounts, /dev, cgroups, namespaces, links, seccomp answers, ...). Every
// key becomes a Row with both values and a Mark:
//
//	✓ Same    both runtimes gave the same value
//	~ Must    the values differ only where they must: container IDs,
//	          addresses, layer paths, the runtime's own folders
//	✗ Differs a real difference: mini-docker is not doing what Docker does
//
// The rules for ~ are in classify.go, each with the reason it prints; a
// row that no rule explains is ✗.
//
// Lesson 10 (lessons/10-versus-docker.md) teaches it.
package compare

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mini-docker/internal/explain"
)

// Options says what to compare.
type Options struct {
	Image    string   // the image, as both runtimes name it
	RunFlags []string // docker run flags, given to both runs
	// MiniOnly are extra run flags for mini-docker only. It exists to
	// prove compare catches a broken runtime (a test gives mini-docker
	// --cap-add ALL and expects a ✗ row); never set it otherwise.
	MiniOnly   []string
	Docker     string // the docker CLI (default: "docker" on PATH)
	MiniDocker string // the mini-docker binary
	Root       string // mini-docker's state root ("" = its default)
	Probe      string // the probe binary
	// Explain, when not nil, prints each step as a shell command first.
	Explain *explain.Printer
}

// Side is one runtime's run of the probe.
type Side struct {
	Runtime string        `json:"runtime"`
	Argv    []string      `json:"argv"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Keys    []string      `json:"-"` // in the probe's order
	Values  map[string]string
}

// Report is the comparison.
type Report struct {
	Image    string   `json:"image"`
	RunFlags []string `json:"run_flags"`
	// DockerVersion is the engine's version; DockerBridge says whether
	// its default network has a bridge (dockerd --bridge=none: no).
	DockerVersion string  `json:"docker_version"`
	DockerBridge  bool    `json:"docker_bridge"`
	Docker        Side    `json:"docker"`
	Mini          Side    `json:"mini_docker"`
	Rows          []Row   `json:"rows"`
	Ratio         float64 `json:"time_ratio"` // mini-docker's time / Docker's
	Same          int     `json:"same"`
	Must          int     `json:"must_differ"`
	Differs       int     `json:"differs"`
}

// ErrNoDocker wraps the reason no Docker engine answered.
var ErrNoDocker = errors.New("no Docker engine answers")

// probeDir is where both runtimes mount the probe's folder.
const probeDir = "/.mini-docker-probe"

// Run runs the probe under docker run, then under mini-docker run, and
// compares the two outputs.
func Run(o Options) (*Report, error) {
	if o.Docker == "" {
		o.Docker = "docker"
	}
	version, err := DockerVersion(o.Docker)
	if err != nil {
		return nil, err
	}
	r := &Report{Image: o.Image, RunFlags: o.RunFlags, DockerVersion: version}
	// With dockerd --bridge=none there is no "bridge" network: a
	// container without --network gets only a loopback link.
	r.DockerBridge = exec.Command(o.Docker, "network", "inspect", "bridge").Run() == nil
	swap, _ := exec.Command(o.Docker, "info", "--format", "{{.SwapLimit}}").Output()
	noSwap := strings.TrimSpace(string(swap)) == "false"

	dir, cleanup, err := stageProbe(o.Probe, o.Explain)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	volume := []string{"-v", dir + ":" + probeDir + ":ro"}
	probeArgv := func(ns string) []string {
		return []string{probeDir + "/probe", "--host-ns=" + ns}
	}

	// Docker's containers are made by dockerd, so "the host" is dockerd's
	// namespaces; mini-docker's are made from ours.
	dockerNS, ourNS := hostNamespaces(dockerdPID()), hostNamespaces("self")
	dockerArgv := append([]string{o.Docker, "run", "--rm"}, volume...)
	dockerArgv = append(dockerArgv, o.RunFlags...)
	dockerArgv = append(append(dockerArgv, o.Image), probeArgv(dockerNS)...)
	r.Docker, err = runProbe("docker", dockerArgv, o.Explain)
	if err != nil {
		return nil, err
	}

	miniArgv := []string{o.MiniDocker}
	if o.Root != "" {
		miniArgv = append(miniArgv, "--root", o.Root)
	}
	miniArgv = append(append(miniArgv, "run", "--rm"), volume...)
	miniArgv = append(append(miniArgv, o.RunFlags...), o.MiniOnly...)
	miniArgv = append(append(miniArgv, o.Image), probeArgv(ourNS)...)
	r.Mini, err = runProbe("mini-docker", miniArgv, o.Explain)
	if err != nil {
		return nil, err
	}

	r.Rows = Classify(r.Docker, r.Mini, Context{
		DockerBridge:  r.DockerBridge,
		RunFlags:      o.RunFlags,
		OtherHostNet:  nsOf(dockerNS, "net") != nsOf(ourNS, "net"),
		DockerVersion: version,
		NoDockerSwap:  noSwap,
	})
	for _, row := range r.Rows {
		switch row.Mark {
		case Same:
			r.Same++
		case Must:
			r.Must++
		default:
			r.Differs++
		}
	}
	if r.Docker.Elapsed > 0 {
		r.Ratio = float64(r.Mini.Elapsed) / float64(r.Docker.Elapsed)
	}
	return r, nil
}

// DockerVersion asks the engine for its version: the one call that tells
// whether an engine answers at all.
func DockerVersion(docker string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(docker, "version", "--format", "{{.Server.Version}}")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		why := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(why, '\n'); i > 0 {
			why = why[:i]
		}
		if why == "" {
			why = err.Error()
		}
		return "", fmt.Errorf("%w: %s: %s", ErrNoDocker, docker, why)
	}
	return strings.TrimSpace(string(out)), nil
}

// stageProbe copies the probe into a fresh folder that both runtimes
// bind-mount read-only: a folder, not the file, so its mount looks the
// same to both (and the binary cannot be changed from inside).
func stageProbe(probe string, ex *explain.Printer) (string, func(), error) {
	src, err := os.Open(probe)
	if err != nil {
		return "", nil, fmt.Errorf("open the probe: %w", err)
	}
	defer src.Close()
	dir, err := os.MkdirTemp("", "mini-docker-probe-")
	if err != nil {
		return "", nil, fmt.Errorf("stage the probe: %w", err)
	}
	ex.Argv("mkdir", dir)
	ex.Argv("install", "-m", "755", probe, filepath.Join(dir, "probe"))
	cleanup := func() {
		ex.Argv("rm", "-rf", dir)
		os.RemoveAll(dir)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("stage the probe: %w", err)
	}
	dst, err := os.OpenFile(filepath.Join(dir, "probe"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err == nil {
		_, err = io.Copy(dst, src)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("stage the probe in %s: %w", dir, err)
	}
	return dir, cleanup, nil
}

// dockerdPID finds the engine's process (its pid file), or "self" when
// it cannot be read: then our own namespaces stand for the host's.
func dockerdPID() string {
	for _, f := range []string{"/run/docker.pid", "/var/run/docker.pid"} {
		if b, err := os.ReadFile(f); err == nil {
			pid := strings.TrimSpace(string(b))
			if _, err := os.Stat("/proc/" + pid + "/ns"); err == nil {
				return pid
			}
		}
	}
	return "self"
}

// hostNamespaces reads the namespace inodes of a process as the probe's
// --host-ns value: "cgroup=4026531835,ipc=...".
func hostNamespaces(pid string) string {
	var parts []string
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		st, err := os.Stat("/proc/" + pid + "/ns/" + ns)
		if err != nil {
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			parts = append(parts, ns+"="+strconv.FormatUint(sys.Ino, 10))
		}
	}
	return strings.Join(parts, ",")
}

// nsOf picks one namespace's inode out of a --host-ns value.
func nsOf(list, ns string) string {
	for _, kv := range strings.Split(list, ",") {
		if v, ok := strings.CutPrefix(kv, ns+"="); ok {
			return v
		}
	}
	return ""
}

// runProbe runs one side and parses its lines, timing the whole run
// (what a user waits for: from the command to the container's end).
func runProbe(runtime string, argv []string, ex *explain.Printer) (Side, error) {
	s := Side{Runtime: runtime, Argv: argv}
	ex.Argv(argv...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	s.Elapsed = time.Since(start)
	if err != nil {
		return s, fmt.Errorf("%s run: %v: %s", runtime, err, lastLine(stderr.String()))
	}
	s.Keys, s.Values = Parse(stdout.String())
	if len(s.Keys) == 0 {
		return s, fmt.Errorf("%s run: the probe printed nothing: %s", runtime, lastLine(stderr.String()))
	}
	return s, nil
}

// lastLine picks the line that says what went wrong: the last one that
// mentions an error (docker ends with a "Run 'docker run --help'" line).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), "error") {
			return strings.TrimSpace(lines[i])
		}
	}
	return lines[len(lines)-1]
}

// Parse reads the probe's "key: value" lines, keeping their order.
func Parse(out string) ([]string, map[string]string) {
	var keys []string
	values := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			k, ok = strings.CutSuffix(l, ":")
			if !ok {
				continue
			}
		}
		if _, dup := values[k]; !dup {
			keys = append(keys, k)
		}
		values[k] = v
	}
	return keys, values
}
