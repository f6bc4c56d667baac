package api

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// tarList lists the names in a tar archive.
func tarList(t *testing.T, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read the archive: %v", err)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
	sort.Strings(names)
	return names
}

// TestDockerCLIContents: docker top, stats, diff, export and cp through
// the API say what the mini-docker commands of the same names say of
// the same container (one engine behind both).
func TestDockerCLIContents(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			h.mustDocker(h.srv, cli, "run", "-d", "--name", "box", "--network", "none", ref, "sleep", "300")
			h.mustDocker(h.srv, cli, "exec", "box", "sh", "-c", "echo made here > /made; rm /etc/issue")

			out := h.mustDocker(h.srv, cli, "top", "box")
			mdOut, _ := h.md("top", "box")
			if !strings.Contains(out, "sleep 300") || !strings.HasPrefix(out, "UID") || len(strings.Fields(out)) != len(strings.Fields(mdOut)) {
				t.Errorf("docker top box printed:\n%s\nmini-docker top box:\n%s", out, mdOut)
			}
			if out := h.mustDocker(h.srv, cli, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", "box"); !strings.HasPrefix(out, "box 1 ") || strings.Contains(out, " 0B /") {
				t.Errorf("docker stats --no-stream printed %q, want box with 1 process and some memory", out)
			}

			out = h.mustDocker(h.srv, cli, "diff", "box")
			if mdOut, _ := h.md("diff", "box"); out != mdOut || !strings.Contains(out, "A /made\n") || !strings.Contains(out, "D /etc/issue\n") {
				t.Errorf("docker diff box printed:\n%s\nmini-docker diff box:\n%s", out, mdOut)
			}

			dir := t.TempDir()
			h.mustDocker(h.srv, cli, "export", "-o", filepath.Join(dir, "api.tar"), "box")
			if _, code := h.md("export", "-o", filepath.Join(dir, "md.tar"), "box"); code != 0 {
				t.Fatal("mini-docker export failed")
			}
			api, md := readTar(t, filepath.Join(dir, "api.tar")), readTar(t, filepath.Join(dir, "md.tar"))
			if strings.Join(api, "\n") != strings.Join(md, "\n") || !contains(api, "made") || contains(api, "etc/issue") {
				t.Errorf("docker export lists %d names, mini-docker export %d (made there: %v, etc/issue gone: %v)", len(api), len(md), contains(api, "made"), !contains(api, "etc/issue"))
			}

			// docker cp, both ways, a file and a folder.
			h.mustDocker(h.srv, cli, "cp", "box:/made", dir)
			if b, err := os.ReadFile(filepath.Join(dir, "made")); err != nil || string(b) != "made here\n" {
				t.Errorf("docker cp box:/made: %q, %v", b, err)
			}
			h.mustDocker(h.srv, cli, "cp", "box:/etc/apt", filepath.Join(dir, "apt"))
			if _, err := os.Stat(filepath.Join(dir, "apt", "sources.list.d")); err != nil {
				t.Errorf("docker cp box:/etc/apt: %v", err)
			}
			os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from the host\n"), 0o644)
			h.mustDocker(h.srv, cli, "cp", filepath.Join(dir, "in.txt"), "box:/tmp/")
			h.mustDocker(h.srv, cli, "cp", filepath.Join(dir, "in.txt"), "box:/renamed.txt")
			if out := h.mustDocker(h.srv, cli, "exec", "box", "cat", "/tmp/in.txt", "/renamed.txt"); out != "from the host\nfrom the host\n" {
				t.Errorf("after docker cp into box, cat printed %q", out)
			}
			out, errOut, code := h.docker(h.srv, cli, "cp", "box:/no-such-file", dir)
			// 20.10 words a 404 itself; newer CLIs print the daemon's words.
			if code != 1 || !strings.Contains(errOut, "No such container:path: box:/no-such-file") && !strings.Contains(errOut, "Could not find the file /no-such-file in container box\n") {
				t.Errorf("docker cp of a missing file: exit %d, %s%s", code, out, errOut)
			}
			out, errOut, code = h.docker(h.srv, cli, "cp", filepath.Join(dir, "in.txt"), "box:/no/such/dir/")
			if code != 1 {
				t.Errorf("docker cp into a missing folder: exit %d, %s%s", code, out, errOut)
			}
			h.mustDocker(h.srv, cli, "rm", "-f", "box")
			h.assertNoLeaks()
		})
	}
}

func readTar(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return tarList(t, bytes.NewReader(b))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
