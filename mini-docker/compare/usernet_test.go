package compare_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/procfs"
	"mini-docker/internal/testenv"
)

// A user network under Docker and under mini-docker alike: two
// containers on it find each other by name, one on another network
// cannot. Docker's user network is a bridge (and iptables rules) in the
// network namespace of the dockerd that makes it, and the engine the
// other cases use runs in the host's namespace with --bridge=none
// --iptables=false (scripts/dockerd). So this case starts a dockerd of
// its own inside a network namespace it made, with its own data root,
// exec root, containerd (started by dockerd, under its exec root),
// socket and pidfile: the bridge and the rules are made there, and the
// host's links, routes and rule set are checked unchanged afterwards.

// netnsDockerd is a dockerd started by the test inside its own network
// namespace, reached at host ("unix://...").
type netnsDockerd struct {
	netns, dir, host string
	cmd              *exec.Cmd
	stopped          bool
}

// dockerdTimeout bounds the engine's start and each command given to it.
const dockerdTimeout = 2 * time.Minute

func startNetnsDockerd(t *testing.T) *netnsDockerd {
	t.Helper()
	testenv.RequireCommand(t, "dockerd")
	b := make([]byte, 4)
	rand.Read(b)
	id := hex.EncodeToString(b)
	// A short folder: the sockets under the exec root must fit in
	// sun_path's 108 bytes.
	dir, err := os.MkdirTemp("/var/tmp", "mdcmp-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &netnsDockerd{netns: "mdcmp-d-" + id, dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock")}
	t.Cleanup(func() { d.stop(t) })
	if out, err := exec.Command("ip", "netns", "add", d.netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v %s", d.netns, err, out)
	}
	// No daemon.json of the host's engine: {} is every default, iptables
	// and the bridge driver included, which act inside this namespace only.
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	d.cmd = exec.Command("nsenter", "--net=/run/netns/"+d.netns, "dockerd",
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", d.host,
		"--containerd-namespace", "mdcmp-"+id, "--containerd-plugins-namespace", "mdcmp-"+id+"-plugins",
		"--bridge=none")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil { // nsenter execs dockerd: the same PID
		t.Fatalf("start dockerd in %s: %v", d.netns, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	for deadline := time.Now().Add(dockerdTimeout); ; time.Sleep(250 * time.Millisecond) {
		if exec.Command("docker", "-H", d.host, "info").Run() == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("dockerd in %s exited: %v\n%s", d.netns, err, tail(filepath.Join(dir, "dockerd.log")))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd in %s did not answer within %s\n%s", d.netns, dockerdTimeout, tail(filepath.Join(dir, "dockerd.log")))
		}
	}
	return d
}

// docker runs the docker CLI against d, bounded by dockerdTimeout.
func (d *netnsDockerd) docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", append([]string{"-H", d.host}, args...)...).CombinedOutput()
	return string(out), err
}

// stop removes d's containers, ends dockerd by its PID (SIGTERM, which
// stops its containerd too; SIGKILL of both after a generous wait),
// unmounts what is left under its folder, and removes the folder and
// the namespace.
func (d *netnsDockerd) stop(t *testing.T) {
	if d.stopped {
		return
	}
	d.stopped = true
	if d.cmd != nil && d.cmd.Process != nil {
		if out, err := d.docker("ps", "-aq"); err == nil && strings.TrimSpace(out) != "" {
			d.docker(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		}
		containerd := pidIn(filepath.Join(d.dir, "exec", "containerd", "containerd.pid"))
		d.cmd.Process.Signal(syscall.SIGTERM)
		if !waitGone(d.cmd.Process.Pid, time.Minute) {
			t.Errorf("dockerd %d did not end within a minute of SIGTERM: killed", d.cmd.Process.Pid)
			d.cmd.Process.Kill()
			waitGone(d.cmd.Process.Pid, 10*time.Second)
		}
		if containerd > 0 && processIn(containerd, d.dir) {
			syscall.Kill(containerd, syscall.SIGKILL)
			waitGone(containerd, 10*time.Second)
		}
	}
	for _, m := range mountsUnder(d.dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	os.RemoveAll(d.dir)
	exec.Command("ip", "netns", "del", d.netns).Run()
}

// pidIn reads a pidfile (0 when there is none).
func pidIn(path string) int {
	b, _ := os.ReadFile(path)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// processIn reports whether pid still runs with dir in its command line
// (the containerd that dockerd started for it, not a recycled PID).
func processIn(pid int, dir string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && strings.Contains(string(b), dir)
}

// waitGone polls until pid no longer exists (or is a zombie whose
// parent has not reaped it: the test's Wait does).
func waitGone(pid int, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if st, err := procfs.ReadStat(pid); err == nil && st.State == 'Z' {
			return true
		}
	}
	return false
}

// mountsUnder lists the mount points under dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 1 && strings.HasPrefix(fs[1], dir+"/") {
			out = append([]string{fs[1]}, out...)
		}
	}
	return out
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// dockerObjects is what Docker's networking would add to the host's
// namespace: bridges and veths, routes through them, and its iptables
// and nftables chains.
func dockerObjects() string {
	var b strings.Builder
	for _, argv := range [][]string{{"ip", "-o", "link"}, {"ip", "route"}, {"iptables-save"}, {"nft", "list", "ruleset"}} {
		out, _ := exec.Command(argv[0], argv[1:]...).Output()
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "br-") || strings.Contains(l, "veth") || strings.Contains(l, "docker") || strings.Contains(l, "DOCKER") {
				b.WriteString(strings.Join(argv, " ") + ": " + l + "\n")
			}
		}
	}
	return b.String()
}

// TestCompareUserNetwork: on a user network, Docker and mini-docker give
// the same answers: a member finds another by name (its address on the
// network), a container on another network does not.
func TestCompareUserNetwork(t *testing.T) {
	s := setup(t)
	hostBefore := dockerObjects()
	start := time.Now()
	d := startNetnsDockerd(t)
	t.Logf("dockerd in %s answered after %s", d.netns, time.Since(start).Round(time.Millisecond))
	save := exec.Command("docker", "save", s.ref)
	load := exec.Command("docker", "-H", d.host, "load", "-q")
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	out, lerr := load.CombinedOutput()
	if err := save.Wait(); err != nil || lerr != nil {
		t.Fatalf("docker save %s | docker load (in %s): %v %v %s", s.ref, d.netns, err, lerr, out)
	}
	t.Logf("image loaded after %s", time.Since(start).Round(time.Millisecond))

	type engine struct {
		name string
		run  func(args ...string) (string, error)
	}
	engines := []engine{
		{"docker", d.docker},
		{"mini-docker", func(args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), dockerdTimeout)
			defer cancel()
			cmd := s.command(true, args...)
			c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
			c.Env = cmd.Env
			b, err := c.CombinedOutput()
			return string(b), err
		}},
	}
	for _, e := range engines {
		must := func(args ...string) string {
			t.Helper()
			out, err := e.run(args...)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", e.name, strings.Join(args, " "), err, out)
			}
			return out
		}
		must("network", "create", "--subnet", "10.88.0.0/24", "cmp-app")
		must("network", "create", "--subnet", "10.89.0.0/24", "cmp-other")
		must("run", "-d", "--name", "cmp-db", "--network", "cmp-app", s.ref, "sleep", "300")
		ip := strings.TrimSpace(must("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "cmp-db"))
		if !strings.HasPrefix(ip, "10.88.0.") {
			t.Errorf("%s: cmp-db's address %q, want one in 10.88.0.0/24", e.name, ip)
		}
		// getent asks the resolver as a program would: Docker's answers from
		// its embedded DNS server, mini-docker's from /etc/hosts.
		// One try of a second for a name not found: the upstream resolvers of
		// both are unreachable from these namespaces, and libc's default (5 s,
		// twice) is all waiting.
		dns := []string{"--dns-option", "timeout:1", "--dns-option", "attempts:1"}
		got := must(append(append([]string{"run", "--rm", "--network", "cmp-app"}, dns...), s.ref, "getent", "hosts", "cmp-db")...)
		if f := strings.Fields(got); len(f) < 2 || f[0] != ip || f[1] != "cmp-db" {
			t.Errorf("%s: getent hosts cmp-db on cmp-app: %q, want %s cmp-db", e.name, got, ip)
		}
		t0 := time.Now()
		if out, err := e.run(append(append([]string{"run", "--rm", "--network", "cmp-other"}, dns...), s.ref, "getent", "hosts", "cmp-db")...); err == nil {
			t.Errorf("%s: cmp-db resolved from cmp-other: %q", e.name, out)
		}
		t.Logf("%s: not resolved from cmp-other, in %s; the case took %s", e.name, time.Since(t0).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		must("rm", "-f", "cmp-db")
		must("network", "rm", "cmp-app", "cmp-other")
	}
	d.stop(t)
	if after := dockerObjects(); after != hostBefore {
		t.Errorf("the host's namespace changed:\nbefore:\n%s\nafter:\n%s", hostBefore, after)
	}
}
