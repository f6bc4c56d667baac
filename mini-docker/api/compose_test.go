package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// composeFile is a two-service application: web, busybox's httpd
// serving one page, and client, which fetches it by the service's
// name over the project's network (compose makes it: <project>_default)
// and exits 0 once it has it. $$ is compose's escape for a $ the
// shell must see.
const composeFile = `version: "3.8"
services:
  web:
    image: IMAGE
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]
  client:
    image: IMAGE
    depends_on: [web]
    command: ["sh", "-c", "i=0; until wget -q -O - http://web/; do i=$$((i+1)); [ $$i -lt 600 ] || exit 1; sleep 0.1; done"]
`

// compose runs docker-compose (Debian's 1.29, on docker-py) in dir
// against s: stdout and stderr together, and the exit code.
func (h *harness) compose(s *apiServer, dir string, args ...string) (string, int) {
	h.t.Helper()
	cmd := exec.Command("docker-compose", append([]string{"--ansi", "never", "-p", "demo"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(dockerEnv(h.t, s), "COMPOSE_HTTP_TIMEOUT=600")
	return testenv.RunCmd(h.t, cmd)
}

func (h *harness) mustCompose(s *apiServer, dir string, args ...string) string {
	h.t.Helper()
	out, code := h.compose(s, dir, args...)
	if code != 0 {
		h.t.Fatalf("docker-compose %s: exit %d\n%s\nserver:\n%s", strings.Join(args, " "), code, out, s.stderr)
	}
	return out
}

// TestComposeUpAndDown: docker compose (Debian 12's docker-compose)
// brings a two-service file up against mini-docker, on a network of its
// own where the client reaches the server by its service's name, lists
// it, and takes it down again, leaving no container, network, veth or
// firewall rule behind.
func TestComposeUpAndDown(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if testenv.InCI() {
			t.Fatal("no docker-compose: scripts/packages.txt's docker-compose should have installed it")
		}
		t.Skip("docker-compose is not installed (make setup installs it)")
	}
	h := newHarness(t)
	ref := h.busybox()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(strings.ReplaceAll(composeFile, "IMAGE", ref)), 0o644); err != nil {
		t.Fatal(err)
	}
	rulesBefore := h.nftRules()
	out := h.mustCompose(h.srv, dir, "up", "-d")
	for _, want := range []string{"demo_default", "demo_web_1", "demo_client_1"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker-compose up -d does not mention %s:\n%s", want, out)
		}
	}
	// The client ends once it has fetched the page by name.
	var state string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		state = strings.TrimSpace(h.mustDocker(h.srv, dockerCLIs(t)[0], "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "demo_client_1"))
		if state != "running 0" || time.Now().After(deadline) {
			break
		}
	}
	if state != "exited 0" {
		t.Errorf("demo_client_1 is %q, want exited 0", state)
	}
	if logs := h.mustCompose(h.srv, dir, "logs", "client"); !strings.Contains(logs, "hello-from-web") {
		t.Errorf("the client did not fetch web's page by name; its logs:\n%s", logs)
	}
	ps := h.mustCompose(h.srv, dir, "ps")
	t.Logf("docker-compose up -d:\n%s\ndocker-compose ps:\n%s", out, ps)
	for _, want := range []string{"demo_web_1", "Up", "demo_client_1", "Exit 0"} {
		if !strings.Contains(ps, want) {
			t.Errorf("docker-compose ps does not show %q:\n%s", want, ps)
		}
	}
	// Again: compose finds its network and containers by their labels,
	// and the network's options as its file has them.
	if again := h.mustCompose(h.srv, dir, "up", "-d", "web"); !strings.Contains(again, "demo_web_1 is up-to-date") {
		t.Errorf("a second docker-compose up -d web:\n%s", again)
	}
	down := h.mustCompose(h.srv, dir, "down")
	for _, want := range []string{"Removing demo_web_1", "Removing demo_client_1", "Removing network demo_default"} {
		if !strings.Contains(down, want) {
			t.Errorf("docker-compose down does not say %q:\n%s", want, down)
		}
	}
	if out := h.mustDocker(h.srv, dockerCLIs(t)[0], "ps", "-aq"); out != "" {
		t.Errorf("containers left after down: %q", out)
	}
	if out := h.mustDocker(h.srv, dockerCLIs(t)[0], "network", "ls", "-q", "--filter", "name=demo"); out != "" {
		t.Errorf("networks left after down: %q", out)
	}
	if after := h.nftRules(); after != rulesBefore {
		t.Errorf("the firewall differs after down:\nbefore:\n%s\nafter:\n%s", rulesBefore, after)
	}
	h.assertNoLeaks()
}

// nftRules is the test namespace's nftables ruleset.
func (h *harness) nftRules() string {
	h.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", h.netns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		h.t.Fatalf("nft list ruleset in %s: %v\n%s", h.netns, err, out)
	}
	return string(out)
}
