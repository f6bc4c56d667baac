package api

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerCLIShip: docker commit, build, history and push through the
// API make what mini-docker commit, build and push make: images that
// run, with the history mini-docker history shows, in the registry.
func TestDockerCLIShip(t *testing.T) {
	h := newHarness(t)
	h.pull = h.serve(false) // the registry listens in the host's namespace
	ref := h.debian()
	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM "+ref+"\nCOPY greeting /greeting\nRUN cat /greeting > /built\nCMD [\"cat\", \"/built\"]\n"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "greeting"), []byte("built through the API\n"), 0o644)
	for i, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			h.mustDocker(h.srv, cli, "run", "-d", "--name", "box", "--network", "none", ref, "sleep", "300")
			h.mustDocker(h.srv, cli, "exec", "box", "sh", "-c", "echo made here > /made")
			id := strings.TrimSpace(h.mustDocker(h.srv, cli, "commit", "-c", "CMD cat /made", "box", "committed:1"))
			if !strings.HasPrefix(id, "sha256:") {
				t.Errorf("docker commit printed %q, want an image ID", id)
			}
			if out := h.mustDocker(h.srv, cli, "run", "--rm", "--network", "none", "committed:1"); out != "made here\n" {
				t.Errorf("the committed image's CMD printed %q", out)
			}
			out := h.mustDocker(h.srv, cli, "history", "committed:1")
			mdOut, _ := h.md("history", "committed:1")
			if strings.Count(out, "\n") != strings.Count(mdOut, "\n") || !strings.Contains(out, "sleep 300") {
				t.Errorf("docker history:\n%s\nmini-docker history:\n%s", out, mdOut)
			}
			h.mustDocker(h.srv, cli, "rm", "-f", "box")

			tag := "built:" + string(rune('1'+i))
			out = h.mustDocker(h.srv, cli, "build", "-t", tag, ctxDir)
			if !strings.Contains(out, "Step 3/4 : RUN cat /greeting > /built") || !strings.Contains(out, "Successfully tagged "+tag) {
				t.Errorf("docker build printed:\n%s", out)
			}
			if out := h.mustDocker(h.srv, cli, "run", "--rm", "--network", "none", tag); out != "built through the API\n" {
				t.Errorf("the built image printed %q", out)
			}
			if out := h.mustDocker(h.srv, cli, "build", "-q", ctxDir); !strings.HasPrefix(out, "sha256:") {
				t.Errorf("docker build -q printed %q, want the image ID", out)
			}
			bad := t.TempDir()
			os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM "+ref+"\nRUN exit 3\n"), 0o644)
			out, errOut, code := h.docker(h.srv, cli, "build", bad)
			if code != 3 || !strings.Contains(out+errOut, "returned a non-zero code: 3") {
				t.Errorf("docker build of RUN exit 3: exit %d\n%s%s", code, out, errOut)
			}

			pushed := h.reg.Ref("api-pushed:" + string(rune('1'+i)))
			h.mustDocker(h.pull, cli, "tag", tag, pushed)
			out = h.mustDocker(h.pull, cli, "push", pushed)
			if !strings.Contains(out, "digest: sha256:") {
				t.Errorf("docker push printed:\n%s", out)
			}
			repo, tg, _ := strings.Cut(strings.TrimPrefix(pushed, h.reg.Addr+"/"), ":")
			req, _ := http.NewRequest("HEAD", "http://"+h.reg.Addr+"/v2/"+repo+"/manifests/"+tg, nil)
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
				t.Errorf("the registry has no %s after docker push: %v %v", pushed, resp, err)
			}
			out, errOut, code = h.docker(h.pull, cli, "push", h.reg.Ref("never-made:1"))
			if code != 1 || !strings.Contains(errOut, "does not exist locally") {
				t.Errorf("docker push of a missing image: exit %d\n%s%s", code, out, errOut)
			}
			h.assertNoLeaks()
		})
	}
}
