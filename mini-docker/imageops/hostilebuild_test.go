package imageops_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// victim is a host folder a hostile build context aims at: a file and
// the folder's mode and time, to check that nothing of it changed.
type victim struct {
	dir   string
	mode  os.FileMode
	mtime time.Time
}

func newVictim(t *testing.T) victim {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1500000000, 0)
	os.Chmod(dir, 0o700)
	os.Chtimes(dir, old, old)
	fi, _ := os.Stat(dir)
	return victim{dir, fi.Mode(), fi.ModTime()}
}

// untouched fails t unless the folder holds its one file, unchanged,
// with its mode and time.
func (v victim) untouched(t *testing.T) {
	t.Helper()
	if b, _ := os.ReadFile(filepath.Join(v.dir, "secret")); string(b) != "SECRET" {
		t.Errorf("the host file %s/secret now holds %q", v.dir, b)
	}
	if es, _ := os.ReadDir(v.dir); len(es) != 1 {
		t.Errorf("the host folder %s holds %d entries, want 1 (its secret)", v.dir, len(es))
	}
	if fi, _ := os.Stat(v.dir); fi.Mode() != v.mode || !fi.ModTime().Equal(v.mtime) {
		t.Errorf("the host folder %s changed: mode %v time %v, was %v %v", v.dir, fi.Mode(), fi.ModTime(), v.mode, v.mtime)
	}
}

// A COPY of several sources lays them out in one folder: a symlink the
// first leaves there (to a host folder, to a host file) is replaced by
// what the second has at the same path, as Docker's untar replaces it,
// and never written through. The image gets a folder and a file there.
func TestBuildCopyNeverWritesThroughItsSymlinks(t *testing.T) {
	e := newEnv(t)
	v := newVictim(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile":    "FROM " + e.debian + "\nCOPY a b /dst/\n",
		"b/sub/newfile": "new",
		"b/x":           "replaced",
	})
	if err := os.MkdirAll(filepath.Join(ctx, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Symlink(v.dir, filepath.Join(ctx, "a/sub"))
	os.Symlink(filepath.Join(v.dir, "secret"), filepath.Join(ctx, "a/x"))
	os.Chmod(filepath.Join(ctx, "b/sub"), 0o777)
	e.must("build", "-t", "symlinks:1", ctx)
	v.untouched(t)
	got := e.must("run", "--rm", "--network", "none", "symlinks:1", "sh", "-c",
		"stat -c '%F %a' /dst/sub /dst/x; cat /dst/sub/newfile /dst/x")
	if want := "directory 777\nregular file 644\nnewreplaced"; got != want {
		t.Errorf("the image's /dst/sub and /dst/x:\n%s\nwant:\n%s", got, want)
	}
}

// ADD unpacks a tar archive that is itself a SOURCE; one inside a
// folder SOURCE is copied as a file, as Docker's ADD does. Unpacked,
// the archive below would plant /app/zz.conf as a symlink to a host
// file for the folder's own zz.conf to be written through.
func TestBuildAddFolderKeepsItsArchives(t *testing.T) {
	e := newEnv(t)
	v := newVictim(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile":  "FROM " + e.debian + "\nADD d /app/\n",
		"d/zz.conf":   "conf",
		"d/keep/note": "kept",
	})
	f, err := os.Create(filepath.Join(ctx, "d/a.tar"))
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "zz.conf", Linkname: filepath.Join(v.dir, "planted"), Format: tar.FormatUSTAR})
	tw.Close()
	f.Close()
	e.must("build", "-t", "adddir:1", ctx)
	v.untouched(t)
	got := e.must("run", "--rm", "--network", "none", "adddir:1", "sh", "-c",
		"stat -c '%F' /app/a.tar /app/zz.conf; cat /app/zz.conf /app/keep/note")
	if want := "regular file\nregular file\nconfkept"; got != want {
		t.Errorf("the image's /app:\n%s\nwant:\n%s", got, want)
	}
}

// COPY sees the context Docker would send: a file .dockerignore excludes
// is not in it, whatever symbolic link names it (not found, as in
// Docker); a glob leaves excluded files out instead of failing; and a
// glob never lists a folder through a symbolic link (a link to a host
// folder would show the host's names in the error).
func TestBuildCopySeesTheContextDockerSends(t *testing.T) {
	e := newEnv(t)
	v := newVictim(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile":    "FROM " + e.debian + "\nCOPY rel /r\n",
		".dockerignore": "ign.txt\nsecret.txt\n",
		"ign.txt":       "IGNORED",
		"secret.txt":    "SECRET",
		"a.txt":         "A",
	})
	os.Symlink("ign.txt", filepath.Join(ctx, "rel"))
	os.Symlink(v.dir, filepath.Join(ctx, "dlink"))
	if _, errOut, code := e.md("build", "-t", "ignored:1", ctx); code == 0 || !strings.Contains(errOut, "excluded by .dockerignore") {
		t.Errorf("COPY of a link to an excluded file: exit %d %q, want not found", code, errOut)
	}
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+e.debian+"\nCOPY *.txt /t/\n"), 0o644)
	e.must("build", "-t", "ignored:2", ctx)
	if got := e.must("run", "--rm", "--network", "none", "ignored:2", "ls", "/t"); got != "a.txt\n" {
		t.Errorf("COPY *.txt with secret.txt and ign.txt excluded: /t holds %q, want a.txt", got)
	}
	// An exception below an excluded folder, and a pattern out of the
	// context (matching nothing), as Docker reads them.
	os.MkdirAll(filepath.Join(ctx, "dir"), 0o755)
	os.WriteFile(filepath.Join(ctx, "dir/keep"), nil, 0o644)
	os.WriteFile(filepath.Join(ctx, "dir/drop"), nil, 0o644)
	os.WriteFile(filepath.Join(ctx, "x"), nil, 0o644)
	os.WriteFile(filepath.Join(ctx, ".dockerignore"), []byte("ign.txt\nsecret.txt\ndlink\nrel\ndir\n!dir/keep\n../x\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+e.debian+"\nCOPY . /c/\n"), 0o644)
	e.must("build", "-t", "ignored:4", ctx)
	if got := e.must("run", "--rm", "--network", "none", "ignored:4", "sh", "-c", "cd /c && ls dir x"); got != "x\n\ndir:\nkeep\n" {
		t.Errorf("COPY . with dir, !dir/keep and ../x ignored: %q, want dir/keep and x", got)
	}
	os.WriteFile(filepath.Join(ctx, ".dockerignore"), []byte("ign.txt\nsecret.txt\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+e.debian+"\nCOPY dlink/* /x/\n"), 0o644)
	if _, errOut, code := e.md("build", "-t", "ignored:3", ctx); code == 0 || strings.Contains(errOut, "secret") {
		t.Errorf("COPY dlink/* (a link to a host folder): exit %d %q, want not found, naming no host file", code, errOut)
	}
	v.untouched(t)
	e.md("rmi", "ignored:2", "ignored:4")
}

// Ctrl-C stops a build during a RUN step whose PID 1 ignores SIGINT:
// the container is killed and removed, no image is committed or tagged,
// and the build exits 130, as Docker's build stops when its client goes.
func TestBuildInterruptedDuringRun(t *testing.T) {
	e := newEnv(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + e.debian + "\nRUN trap '' INT TERM; echo started; sleep 60\nRUN echo never\n",
	})
	cmd := exec.Command(e.bin, "--root", e.root, "build", "-t", "interrupted:1", ctx)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var out lockedBuffer
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if sc.Text() == "started" {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatalf("the RUN step never started:\n%s", out.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		pw.Close()
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Errorf("exit %d (%v), want 130:\n%s", code, err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the build went on after Ctrl-C:\n%s", out.String())
	}
	if ids := e.containers(); len(ids) != 0 {
		t.Errorf("containers left: %q", ids)
	}
	if _, _, code := e.md("image", "inspect", "interrupted:1"); code == 0 {
		t.Errorf("the interrupted build tagged interrupted:1")
	}
}

// lockedBuffer is a bytes.Buffer one goroutine writes while another reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
