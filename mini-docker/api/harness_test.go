package api

// The integration tests' server: the built mini-docker, `serve` on a
// socket in the test's own folder, with a state root of its own, run
// inside a network namespace the test made to play the host (the
// bridge and veths of default-network runs land there). Pulls go
// through a second server on the same state root in the host's
// namespace, where the test registry listens. Clients are the real
// docker CLIs (Debian 12's 20.10, and a newer one where installed) and
// net/http.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// apiServer is one running `mini-docker serve`.
type apiServer struct {
	cmd    *exec.Cmd
	sock   string
	stderr *bytes.Buffer
	client *http.Client
}

// harness is one test's servers, state root and namespace.
type harness struct {
	t     *testing.T
	bin   string
	root  string
	netns string
	reg   *testenv.Registry
	srv   *apiServer // in the test's namespace: runs
	pull  *apiServer // in the host's: pulls
	seen  func() []string
}

var hex64 = testenv.ContainerID

func newHarness(t *testing.T) *harness {
	t.Helper()
	md := testenv.NewMiniDocker(t, "mda")
	h := &harness{t: t, bin: md.Bin, root: md.Root, netns: md.Netns, seen: md.Seen}
	t.Cleanup(h.cleanup)
	h.reg = testenv.SharedRegistry(t)
	h.srv = h.serve(true)
	return h
}

// serve starts a server on a new socket, in the test's namespace or the host's.
func (h *harness) serve(inNetns bool) *apiServer {
	h.t.Helper()
	sock := filepath.Join(h.t.TempDir(), "md.sock")
	args := []string{h.bin, "--root", h.root, "serve", "-H", "unix://" + sock}
	if inNetns {
		args = append([]string{"nsenter", "--net=/run/netns/" + h.netns}, args...)
	}
	s := &apiServer{cmd: exec.Command(args[0], args[1:]...), sock: sock, stderr: &bytes.Buffer{}}
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	s.client = s.newClient()
	h.t.Cleanup(func() { s.stop(h.t) })
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if resp, err := s.client.Get("http://localhost/_ping"); err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the server did not answer on %s:\n%s", sock, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newClient returns an HTTP client with connections of its own to s.
func (s *apiServer) newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", s.sock)
	}}}
}

// stop ends the server as a user would (SIGTERM) and checks that it
// ends cleanly, its socket gone.
func (s *apiServer) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve ended with %v:\n%s", err, s.stderr)
		}
	case <-time.After(2 * time.Minute):
		s.cmd.Process.Kill()
		<-done
		t.Errorf("serve did not end within 2 minutes of SIGTERM:\n%s", s.stderr)
	}
	if _, err := os.Lstat(s.sock); err == nil {
		t.Errorf("the socket %s is still there after the server ended", s.sock)
	}
}

// dockerCLIs are the docker clients to drive the server with: Debian
// 12's (20.10, /usr/bin/docker) and the one on PATH when it differs.
func dockerCLIs(t *testing.T) []string {
	t.Helper()
	var out []string
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		out = append(out, "/usr/bin/docker")
	}
	if p, err := exec.LookPath("docker"); err == nil {
		if r, _ := filepath.EvalSymlinks(p); r != "/usr/bin/docker" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		if testenv.InCI() {
			t.Fatal("no docker CLI: scripts/packages.txt's docker.io should have installed /usr/bin/docker")
		}
		t.Skip("no docker CLI installed (make setup installs docker.io)")
	}
	return out
}

// docker runs a docker CLI against s: stdout, stderr, exit code.
func (h *harness) docker(s *apiServer, cli string, args ...string) (string, string, int) {
	h.t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Env = dockerEnv(h.t, s)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		if x, ok := err.(*exec.ExitError); ok {
			return out.String(), errOut.String(), x.ExitCode()
		}
		h.t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

// dockerEnv is a docker CLI's environment pointed at s, with a config
// folder of its own (not root's credential helpers).
func dockerEnv(t *testing.T, s *apiServer) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DOCKER_HOST=unix://" + s.sock,
		"DOCKER_CONFIG=" + t.TempDir(), "DOCKER_CLI_HINTS=false"}
}

func (h *harness) mustDocker(s *apiServer, cli string, args ...string) string {
	h.t.Helper()
	out, errOut, code := h.docker(s, cli, args...)
	if code != 0 {
		h.t.Fatalf("%s %s: exit %d\n%s%s\nserver:\n%s", cli, strings.Join(args, " "), code, out, errOut, s.stderr)
	}
	return out
}

// md runs the mini-docker CLI on the harness's state root, in its namespace.
func (h *harness) md(args ...string) (string, int) {
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + h.netns, h.bin, "--root", h.root}, args...)...)
	return testenv.RunCmd(h.t, cmd)
}

// debian pushes the test image and pulls it with the mini-docker CLI
// (host namespace), returning its reference.
func (h *harness) debian() string {
	ref := testenv.PushDebian(h.t, h.reg)
	h.pullRef(ref)
	return ref
}

// busybox pushes the busybox image and pulls it with the mini-docker
// CLI, returning its reference.
func (h *harness) busybox() string {
	ref := testenv.PushBusybox(h.t, h.reg)
	h.pullRef(ref)
	return ref
}

// pullRef pulls ref with the mini-docker CLI (host namespace).
func (h *harness) pullRef(ref string) {
	h.t.Helper()
	if out, code := testenv.RunCmd(h.t, exec.Command(h.bin, "--root", h.root, "pull", "-q", ref)); code != 0 {
		h.t.Fatalf("pull %s: exit %d\n%s", ref, code, out)
	}
}

// request sends one request to s and returns the status and body.
func request(t *testing.T, s *apiServer, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://localhost"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// leftovers lists what the test's containers hold: mounts under the
// root, their cgroups and network namespaces, veths in the test's
// namespace, state folders.
func (h *harness) leftovers() []string {
	var out []string
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], h.root) {
			out = append(out, "mount "+f[4])
		}
	}
	for _, id := range h.seen() {
		for _, p := range []string{"/sys/fs/cgroup/*/mini-docker/" + id, "/sys/fs/cgroup/mini-docker/" + id, "/run/netns/md-" + id[:12], filepath.Join(h.root, "containers", id)} {
			m, _ := filepath.Glob(p)
			for _, x := range m {
				out = append(out, "left "+x)
			}
		}
	}
	veths, _ := exec.Command("ip", "-n", h.netns, "-o", "link", "show", "type", "veth").Output()
	if s := strings.TrimSpace(string(veths)); s != "" {
		out = append(out, "veth "+s)
	}
	return out
}

// assertNoLeaks fails when removed containers left anything (polled:
// a monitor records a container's end a moment after it).
func (h *harness) assertNoLeaks() {
	h.t.Helper()
	var left []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if left = h.leftovers(); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, l := range left {
		h.t.Errorf("left behind: %s", l)
	}
}

func (h *harness) cleanup() {
	if h.srv != nil {
		h.srv.stop(h.t)
	}
	if out, _ := h.md("ps", "-aq", "--no-trunc"); strings.TrimSpace(out) != "" {
		h.md(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	for _, l := range h.leftovers() {
		h.t.Errorf("after rm -f of everything, left behind: %s", l)
	}
}

// fds counts the server's open descriptors.
func (s *apiServer) fds(t *testing.T) int {
	pid := s.cmd.Process.Pid
	// The server runs under nsenter, which execs it: same PID.
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
