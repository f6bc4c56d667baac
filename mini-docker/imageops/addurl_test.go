package imageops_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/testenv"
	"mini-docker/internal/testenv/dockerimages"
)

// TestBuildAddURLMatchesDocker: ADD from a URL (a server on loopback)
// adds the file as Docker's classic builder does: not unpacked, mode
// 0600, owned by root; --checksum refuses a wrong download with exit 1
// and tags nothing.
func TestBuildAddURLMatchesDocker(t *testing.T) {
	e := newEnv(t)
	busybox := testenv.PushBusybox(t, e.reg)
	archive := writeContext(t, map[string]string{"sub/one.txt": "one\n"})
	tgz := filepath.Join(t.TempDir(), "tool.tar.gz")
	if out, err := exec.Command("tar", "-C", archive, "-czf", tgz, "sub").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	modified := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
		switch r.URL.Path {
		case "/dl/tool.tar.gz":
			http.ServeFile(w, r, tgz)
		case "/dl/notes.txt":
			fmt.Fprint(w, "notes\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := writeContext(t, map[string]string{"Dockerfile": "ARG FINAL\nFROM $FINAL\n" +
		"ADD " + srv.URL + "/dl/tool.tar.gz /opt/\nADD " + srv.URL + "/dl/notes.txt /notes-renamed.txt\n"})
	e.must("build", "-t", "addurl:1", "--build-arg", "FINAL="+busybox, ctx)
	e.must("run", "--network", "none", "--name", "au", "addurl:1", "true")
	mine := filepath.Join(t.TempDir(), "mine.tar")
	e.must("export", "-o", mine, "au")
	f, err := os.Open(mine)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := exportedTree(t, f, "opt", "notes-renamed.txt")
	if len(got) != 3 || got[0].Name != "notes-renamed.txt" || got[0].Mode != 0o600 || got[2].Name != "opt/tool.tar.gz" {
		t.Errorf("ADD from a URL made %+v, want /notes-renamed.txt and /opt/tool.tar.gz (not unpacked), 0600", got)
	}
	if out := e.must("run", "--rm", "--network", "none", "addurl:1", "stat", "-c", "%Y", "/notes-renamed.txt"); strings.TrimSpace(out) != fmt.Sprint(modified.Unix()) {
		t.Errorf("mtime %s, want the server's Last-Modified %d", out, modified.Unix())
	}
	bad := writeContext(t, map[string]string{"Dockerfile": "FROM " + busybox + "\n" +
		"ADD --checksum=sha256:" + strings.Repeat("0", 64) + " " + srv.URL + "/dl/notes.txt /n.txt\n"})
	if _, errOut, code := e.md("build", "-t", "badsum:1", bad); code != 1 || !strings.Contains(errOut, "digest mismatch") {
		t.Errorf("ADD with a wrong --checksum: exit %d\n%s", code, errOut)
	}
	if _, _, code := e.md("history", "badsum:1"); code == 0 {
		t.Error("a build with a wrong checksum tagged badsum:1")
	}

	testenv.RequireDockerEngine(t)
	dockerPulled(t, busybox)
	tag := fmt.Sprintf("mdtest/addurl:%d", os.Getpid())
	dockerimages.Build(t, tag, ctx, "--build-arg", "FINAL="+busybox)
	id, err := exec.Command("docker", "create", "--network", "none", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Command("docker", "rm", "-f", strings.TrimSpace(string(id))).Run()
	theirs, err := exec.Command("docker", "export", strings.TrimSpace(string(id))).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := exportedTree(t, bytes.NewReader(theirs), "opt", "notes-renamed.txt"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files differ from Docker's\nmini-docker: %+v\ndocker:      %+v", got, want)
	}
}
