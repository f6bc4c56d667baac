package api

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerCLIRenameSaveLoad: docker rename, docker save and docker
// load, with each docker CLI the machine has, against mini-docker: the
// container answers to its new name only; an image saved, removed and
// loaded again runs, and the archive is the one `mini-docker load`
// reads too.
func TestDockerCLIRenameSaveLoad(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			d := func(args ...string) string { return h.mustDocker(h.srv, cli, args...) }
			d("create", "--name", "before", "--network", "none", ref, "true")
			d("rename", "before", "after")
			if out := d("ps", "-a", "--format", "{{.Names}}"); out != "after\n" {
				t.Errorf("docker ps -a after rename: %q", out)
			}
			if _, errOut, code := h.docker(h.srv, cli, "rename", "after", "../x"); code == 0 || !strings.Contains(errOut, "Invalid container name") {
				t.Errorf("rename to ../x: exit %d %s", code, errOut)
			}
			d("rm", "after")

			tar := filepath.Join(t.TempDir(), "busybox.tar")
			d("save", "-o", tar, ref)
			d("rmi", ref)
			if out := d("load", "-i", tar); !strings.Contains(out, "Loaded image: "+ref) {
				t.Errorf("docker load printed %q", out)
			}
			if out := d("run", "--rm", "--network", "none", ref, "echo", "loaded"); out != "loaded\n" {
				t.Errorf("a run of the loaded image printed %q", out)
			}
			h.md("rmi", ref)
			if out, code := h.md("load", "-i", tar); code != 0 || !strings.Contains(out, "Loaded image: "+ref) {
				t.Errorf("mini-docker load of docker save's archive: exit %d\n%s", code, out)
			}
			if _, errOut, code := h.docker(h.srv, cli, "save", "-o", tar, "never-made:1"); code == 0 || !strings.Contains(errOut, "No such image") {
				t.Errorf("save of a missing image: exit %d %s", code, errOut)
			}
			h.assertNoLeaks()
		})
	}
}
