package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// importedImage is what the import comparison reads of an image from
// either engine's inspect.
type importedImage struct {
	Os, Architecture string
	Config           struct {
		Cmd, Env, Entrypoint []string
		WorkingDir, User     string
		Labels               map[string]string
		OnBuild              []string
		Healthcheck          *struct{ Test []string }
	}
	RootFS struct{ Layers []string }
}

// TestImportLikeDocker: docker import and mini-docker import of the same
// root filesystem tar (a busybox container exported), from a file and
// from stdin, with -c and -m: the same config fields, the same one layer
// (its diffID is the sha256 of the tar, so equal), the same history
// comment and output, and the same exit codes for bad input. The
// imported image then runs.
func TestImportLikeDocker(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	bb := h.busybox()
	dir := t.TempDir()
	tarFile := filepath.Join(dir, "rootfs.tar")
	ct := "export-" + filepath.Base(dir)
	h.mustHost("run", "--name", ct, "--network", "none", bb, "true")
	h.mustHost("export", "-o", tarFile, ct)
	h.mustHost("rm", ct)
	tag := "mdtest-import-" + filepath.Base(dir)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag+":file", tag+":stdin").Run() })

	idLine := regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin bool
	}{
		{"file", []string{"-c", `CMD ["sh", "-c", "echo $A $C; pwd; id -u"]`, "-c", "ENV A=b C=d", "-c", "WORKDIR /srv", "-c", "LABEL k=v", "-c", "USER 1:2", tarFile, tag + ":file"}, false},
		{"stdin", []string{"-m", "a message", "-c", "ENTRYPOINT /bin/sh", "-c", "HEALTHCHECK CMD true", "-c", "ONBUILD RUN x", "-", tag + ":stdin"}, true},
	} {
		run := func(cmd *exec.Cmd) (string, string, int) {
			if tc.stdin {
				fh, err := os.Open(tarFile)
				if err != nil {
					t.Fatal(err)
				}
				defer fh.Close()
				cmd.Stdin = fh
			}
			return runCmd(t, cmd)
		}
		dout, derr, dcode := run(exec.Command("docker", append([]string{"import"}, tc.args...)...))
		out, errOut, code := run(h.command(false, append([]string{"import"}, tc.args...)...))
		if dcode != 0 || code != 0 || !idLine.MatchString(dout) || !idLine.MatchString(out) {
			t.Fatalf("%s: docker exit %d %q %s; mini-docker exit %d %q %s", tc.name, dcode, dout, derr, code, out, errOut)
		}
		dout, _, _ = runCmd(t, exec.Command("docker", "image", "inspect", tag+":"+tc.name))
		want := inspectOne[importedImage](t, []byte(dout))
		got := inspectOne[importedImage](t, []byte(h.mustHost("image", "inspect", tag+":"+tc.name)))
		t.Logf("%s: %+v", tc.name, got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: inspect differs:\n mini-docker %+v\n docker      %+v", tc.name, got, want)
		}
		dcomment, _, _ := runCmd(t, exec.Command("docker", "history", "--format", "{{.Comment}}", tag+":"+tc.name))
		hist := strings.Split(strings.TrimSpace(h.mustHost("history", tag+":"+tc.name)), "\n")
		if len(hist) != 2 || !strings.HasSuffix(hist[1], strings.TrimSpace(dcomment)) {
			t.Errorf("%s: history %q, docker's comment %q", tc.name, hist, dcomment)
		}
	}
	if out := h.must("run", "--rm", "--network", "none", tag+":file"); out != "b d\n/srv\n1\n" {
		t.Errorf("run of the imported image (its CMD, ENV, WORKDIR, USER): %q", out)
	}

	// Bad input: Docker's exit code (1) for each; its words where the CLI
	// (not the daemon) says them.
	junk := filepath.Join(dir, "junk.tar")
	os.WriteFile(junk, []byte(strings.Repeat("not a tar ", 100)), 0o644)
	layers, _ := os.ReadDir(filepath.Join(h.root, "layers"))
	for _, args := range [][]string{
		{filepath.Join(dir, "missing.tar")},
		{"-c", "STOPSIGNAL 9", tarFile},
		{"-c", "RUN true", tarFile},
		{tarFile, "Bad:Ref"},
		{"--platform", "windows", tarFile},
		{junk},
	} {
		dout, derr, dcode := runCmd(t, exec.Command("docker", append([]string{"import"}, args...)...))
		out, errOut, code := h.host(append([]string{"import"}, args...)...)
		if code != dcode || code != 1 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("import %q: mini-docker exit %d %q %q; docker exit %d %q %q", args, code, out, errOut, dcode, dout, derr)
		}
		if w := strings.TrimPrefix(strings.TrimSpace(derr), "Error response from daemon: "); !strings.HasPrefix(w, "Error processing tar") &&
			!strings.HasPrefix(w, "invalid reference format") && strings.TrimPrefix(strings.TrimSpace(errOut), "mini-docker: error: ") != w {
			t.Errorf("import %q: mini-docker says %q, docker %q", args, errOut, w)
		}
	}
	if after, _ := os.ReadDir(filepath.Join(h.root, "layers")); len(after) != len(layers) {
		t.Errorf("refused imports left layers: %d before, %d after", len(layers), len(after))
	}
	if left, _ := os.ReadDir(filepath.Join(h.root, "ingest")); len(left) > 0 {
		t.Errorf("ingest left: %v", left)
	}
}
