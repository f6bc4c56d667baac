package imageops_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/internal/testenv/dockerimages"
)

// twoStage builds a program in a debian stage and copies only its output
// into a busybox stage: the multi-stage pattern of issue 18's done-when.
const twoStage = `ARG BASE
ARG FINAL
FROM $BASE AS build
WORKDIR /src
COPY hello.sh ./
RUN mkdir -p /out/bin /out/private && cp hello.sh /out/bin/hello && chmod 755 /out/bin/hello && \
    echo built > /out/built.txt && chown 1000:1000 /out/built.txt && chmod 700 /out/private && \
    ln -s bin/hello /out/run
FROM $FINAL
COPY --from=build /out/ /app/
COPY --from=0 /src/hello.sh /hello.sh
ENV PATH=/app/bin:/usr/bin:/bin
WORKDIR /app
CMD ["hello"]
`

func twoStageContext(t *testing.T, greeting string) string {
	return writeContext(t, map[string]string{
		"Dockerfile": twoStage,
		"hello.sh":   "#!/bin/sh\necho " + greeting + "\n",
	})
}

// entry is what a test compares of one file in an exported tree.
type entry struct {
	Name, Link string
	Type       byte
	Mode       int64 // permission bits (Docker's tar adds the file type's)
	UID, GID   int
	Content    string
}

// exportedTree lists the entries of an export tar under the given
// prefixes (contents of regular files included).
func exportedTree(t *testing.T, r io.Reader, prefixes ...string) []entry {
	t.Helper()
	var out []entry
	eachTarEntry(t, r, func(h *tar.Header, content io.Reader) {
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		keep := false
		for _, p := range prefixes {
			keep = keep || name == p || strings.HasPrefix(name, p+"/")
		}
		if keep {
			var b bytes.Buffer
			io.Copy(&b, content)
			out = append(out, entry{name, h.Linkname, h.Typeflag, h.Mode & 0o7777, h.Uid, h.Gid, b.String()})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// dockerPulled makes Docker hold ref (pulled from the test registry), and
// removes it at the end when it was not there before.
func dockerPulled(t *testing.T, ref string) {
	t.Helper()
	if exec.Command("docker", "image", "inspect", ref).Run() == nil {
		return
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", ref).Run() })
	if b, err := exec.Command("docker", "pull", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, b)
	}
}

// imageConfig is what both inspects say of an image's config.
type imageConfig struct {
	Cmd, Entrypoint, Env []string
	WorkingDir, User     string
}

func (e *env) imageConfig(ref string) imageConfig {
	e.t.Helper()
	var c imageConfig
	if err := json.Unmarshal([]byte(e.must("inspect", "--type", "image", "-f", "{{json .Config}}", ref)), &c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func dockerImageConfig(t *testing.T, ref string) imageConfig {
	t.Helper()
	b, err := exec.Command("docker", "image", "inspect", "-f", "{{json .Config}}", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	var c imageConfig
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMultiStageMatchesDocker: a two-stage build (build in debian, COPY
// --from into busybox) gives the files, owners, modes and config that
// Docker's classic builder gives for the same Dockerfile, and the image
// runs the program the first stage made.
func TestMultiStageMatchesDocker(t *testing.T) {
	e := newEnv(t)
	busybox := testenv.PushBusybox(t, e.reg)
	ctx := twoStageContext(t, "hello from stage one")
	args := []string{"--build-arg", "BASE=" + e.debian, "--build-arg", "FINAL=" + busybox}
	out := e.must(append([]string{"build", "-t", "ms:1"}, append(args, ctx)...)...)
	if !strings.Contains(out, "Step 8/12 : COPY --from=build /out/ /app/") {
		t.Errorf("build output lacks the COPY --from step as Docker numbers it:\n%s", out)
	}
	if got := e.must("run", "--rm", "--network", "none", "ms:1"); got != "hello from stage one\n" {
		t.Errorf("the final image printed %q", got)
	}
	e.must("run", "--network", "none", "--name", "ms", "ms:1", "true")
	mine := filepath.Join(t.TempDir(), "mine.tar")
	e.must("export", "-o", mine, "ms")
	f, err := os.Open(mine)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := exportedTree(t, f, "app", "hello.sh", "src", "out")
	if len(got) != 7 {
		t.Errorf("the final image has %d entries under /app, /hello.sh, /src, /out, want 7 (the stage's /out and one file): %+v", len(got), got)
	}
	myCfg := e.imageConfig("ms:1")

	testenv.RequireDockerEngine(t)
	dockerPulled(t, e.debian)
	dockerPulled(t, busybox)
	tag := fmt.Sprintf("mdtest/multistage:%d", os.Getpid())
	dockerimages.Build(t, tag, ctx, args...)
	id, err := exec.Command("docker", "create", "--network", "none", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Command("docker", "rm", "-f", strings.TrimSpace(string(id))).Run()
	theirs, err := exec.Command("docker", "export", strings.TrimSpace(string(id))).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := exportedTree(t, bytes.NewReader(theirs), "app", "hello.sh", "src", "out")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files differ from Docker's\nmini-docker: %+v\ndocker:      %+v", got, want)
	}
	if dc := dockerImageConfig(t, tag); fmt.Sprint(myCfg) != fmt.Sprint(dc) {
		t.Errorf("config differs from Docker's\nmini-docker: %+v\ndocker:      %+v", myCfg, dc)
	}
}

// TestMultiStageCacheAndTarget: the cache is keyed across stages (a
// changed file in the first stage rebuilds the COPY --from of the
// second; an unchanged build is all cache), and --target stops after a
// stage, counting its steps as Docker does.
func TestMultiStageCacheAndTarget(t *testing.T) {
	e := newEnv(t)
	busybox := testenv.PushBusybox(t, e.reg)
	args := []string{"--build-arg", "BASE=" + e.debian, "--build-arg", "FINAL=" + busybox}
	ctx := twoStageContext(t, "one")
	build := func(extra ...string) string {
		return e.must(append(append([]string{"build"}, extra...), append(args, ctx)...)...)
	}
	build("-t", "ms:1")
	if c := cachedSteps(build("-t", "ms:1")); len(c) != 8 {
		t.Errorf("an unchanged rebuild used the cache for %d steps, want 8 (all but the two FROMs and the ARGs): %q", len(c), c)
	}
	os.WriteFile(filepath.Join(ctx, "hello.sh"), []byte("#!/bin/sh\necho two\n"), 0o644)
	out := build("-t", "ms:2")
	if c := cachedSteps(out); strings.Join(c, "|") != "WORKDIR /src" {
		t.Errorf("after changing hello.sh, cached steps %q, want only the first stage's WORKDIR", c)
	}
	if got := e.must("run", "--rm", "--network", "none", "ms:2"); got != "two\n" {
		t.Errorf("the rebuilt image printed %q", got)
	}
	out = build("--target", "BUILD", "-t", "ms:build")
	if !strings.Contains(out, "Step 6/6 : RUN mkdir") || strings.Contains(out, "Step 7") {
		t.Errorf("--target build: want 6 steps:\n%s", out)
	}
	if got := e.must("run", "--rm", "--network", "none", "ms:build", "sh", "-c", "pwd; cat /out/built.txt"); got != "/src\nbuilt\n" {
		t.Errorf("the build stage's image printed %q", got)
	}
	_, errOut, code := e.md(append([]string{"build", "--target", "nothere", "-t", "bad:1"}, append(args, ctx)...)...)
	if code != 1 || !strings.Contains(errOut, "failed to reach build target nothere in Dockerfile") {
		t.Errorf("--target nothere: exit %d\n%s", code, errOut)
	}
}
