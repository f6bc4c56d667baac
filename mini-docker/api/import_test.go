package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerCLIImport: docker import through the API (POST
// /images/create?fromSrc=-), with each CLI the machine has, from a file
// and from stdin, with -c and -m: the CLI prints the image ID, the image
// has the changes and one layer, runs, and mini-docker's own CLI sees
// it. A bad change is refused in Docker's words (exit 1).
func TestDockerCLIImport(t *testing.T) {
	h := newHarness(t)
	bb := h.busybox()
	dir := t.TempDir()
	tarFile := filepath.Join(dir, "rootfs.tar")
	if out, code := h.md("run", "--name", "src", "--network", "none", bb, "true"); code != 0 {
		t.Fatalf("run: exit %d %s", code, out)
	}
	if out, code := h.md("export", "-o", tarFile, "src"); code != 0 {
		t.Fatalf("export: exit %d %s", code, out)
	}
	h.md("rm", "src")
	id := regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)
	for i, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			name := "imported:" + string(rune('a'+i))
			out := h.mustDocker(h.srv, cli, "import", "-c", "ENV A=b", "-c", `CMD ["sh", "-c", "echo $A"]`, "-m", "from the API", tarFile, name)
			if !id.MatchString(out) {
				t.Errorf("docker import printed %q, want the image ID", out)
			}
			if out := h.mustDocker(h.srv, cli, "image", "inspect", "-f", "{{.Config.Env}} {{len .RootFS.Layers}}", name); out != "[A=b] 1\n" {
				t.Errorf("inspect: %q", out)
			}
			if out := h.mustDocker(h.srv, cli, "run", "--rm", "--network", "none", name); out != "b\n" {
				t.Errorf("run of the imported image printed %q", out)
			}
			if out, _ := h.md("history", name); !strings.Contains(out, "from the API") {
				t.Errorf("mini-docker history:\n%s", out)
			}
			// From stdin, unnamed: the CLI's "-".
			cmd := exec.Command(cli, "import", "-")
			cmd.Env = dockerEnv(t, h.srv)
			fh, err := os.Open(tarFile)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			cmd.Stdin = fh
			if out, err := cmd.Output(); err != nil || !id.MatchString(string(out)) {
				t.Errorf("docker import - printed %q: %v", out, err)
			}
			if _, errOut, code := h.docker(h.srv, cli, "import", "-c", "STOPSIGNAL 9", tarFile); code != 1 || !strings.Contains(errOut, "stopsignal is not a valid change command") {
				t.Errorf("a bad change: exit %d %s", code, errOut)
			}
		})
	}
	h.assertNoLeaks()
}
