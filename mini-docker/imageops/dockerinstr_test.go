package imageops_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/internal/testenv/dockerimages"
)

// parentDockerfile uses the instructions whose result lives in Docker's
// own config fields: SHELL, HEALTHCHECK and ONBUILD.
const parentDockerfile = `ARG FINAL
FROM $FINAL
SHELL ["/bin/sh", "-ec"]
RUN echo shell > /shell.txt
HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1
ONBUILD RUN echo triggered > /triggered.txt
onbuild  COPY  x.txt /x.txt
`

const childDockerfile = `ARG PARENT
FROM $PARENT
CMD ["cat", "/triggered.txt", "/x.txt", "/shell.txt"]
`

// dockerFields are the config fields Docker adds to the OCI ones.
type dockerFields struct {
	Shell, OnBuild []string
	Healthcheck    *struct {
		Test              []string
		Interval, Retries int64
	}
}

// history is the created_by lines of an image's config, oldest first,
// without the base image's first n.
func (e *env) history(ref string, skip int) []string {
	e.t.Helper()
	cmd := exec.Command(testenv.Bin(e.t, "pull"), "inspect", "--root", e.root, ref)
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("pull inspect %s: %v", ref, err)
	}
	var img struct {
		Config struct {
			History []struct {
				CreatedBy string `json:"created_by"`
			} `json:"history"`
		}
	}
	if err := json.Unmarshal(out, &img); err != nil {
		e.t.Fatal(err)
	}
	var lines []string
	for _, h := range img.Config.History[skip:] {
		lines = append(lines, h.CreatedBy)
	}
	return lines
}

func dockerHistory(t *testing.T, ref string, skip int) []string {
	t.Helper()
	out, err := exec.Command("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var old []string // docker history is newest first
	for i := len(lines) - 1 - skip; i >= 0; i-- {
		old = append(old, lines[i])
	}
	return old
}

// dockerMajor is the Docker engine's major version (26 of 26.1.5+dfsg1).
func dockerMajor(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").Output()
	if err != nil {
		t.Fatalf("docker version: %v", err)
	}
	major, _, _ := strings.Cut(strings.TrimSpace(string(out)), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		t.Fatalf("docker version %q: %v", out, err)
	}
	return n
}

// withoutStartInterval is a HEALTHCHECK history line as an engine older
// than Docker 25 writes it: its HealthConfig had no start interval, the
// fourth duration.
func withoutStartInterval(line string) string {
	re := regexp.MustCompile(`^(.*HEALTHCHECK &\{.* "[^"]*" "[^"]*" "[^"]*") "[^"]*"( '[^']*'\})$`)
	return re.ReplaceAllString(line, "$1$2")
}

// TestBuildShellHealthcheckOnbuildMatchDocker: SHELL, HEALTHCHECK and
// ONBUILD end in the image config and its history as with Docker's
// classic builder, and a child image runs the triggers (once: they are
// not passed on).
func TestBuildShellHealthcheckOnbuildMatchDocker(t *testing.T) {
	e := newEnv(t)
	busybox := testenv.PushBusybox(t, e.reg)
	parent := writeContext(t, map[string]string{"Dockerfile": parentDockerfile})
	child := writeContext(t, map[string]string{"Dockerfile": childDockerfile, "x.txt": "x\n"})
	e.must("build", "-t", "parent:1", "--build-arg", "FINAL="+busybox, parent)
	var mine dockerFields
	if err := json.Unmarshal([]byte(e.must("inspect", "--type", "image", "-f", "{{json .Config}}", "parent:1")), &mine); err != nil {
		t.Fatal(err)
	}
	out := e.must("build", "-t", "child:1", "--build-arg", "PARENT=parent:1", child)
	if !strings.Contains(out, "# Executing 2 build triggers\n") {
		t.Errorf("the child's build does not announce the parent's triggers:\n%s", out)
	}
	if got := e.must("run", "--rm", "--network", "none", "child:1"); got != "triggered\nx\nshell\n" {
		t.Errorf("the child image printed %q", got)
	}
	childCfg := e.must("inspect", "--type", "image", "-f", "{{json .Config.OnBuild}}", "child:1")
	myHistory := e.history("parent:1", 1)

	testenv.RequireDockerEngine(t)
	dockerPulled(t, busybox)
	tag := fmt.Sprintf("mdtest/onbuild-parent:%d", os.Getpid())
	dockerimages.Build(t, tag, parent, "--build-arg", "FINAL="+busybox)
	b, err := exec.Command("docker", "image", "inspect", "-f", "{{json .Config}}", tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	var theirs dockerFields
	if err := json.Unmarshal(b, &theirs); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(mine.Shell, mine.OnBuild) != fmt.Sprint(theirs.Shell, theirs.OnBuild) || mine.Healthcheck == nil ||
		theirs.Healthcheck == nil || fmt.Sprint(*mine.Healthcheck) != fmt.Sprint(*theirs.Healthcheck) {
		t.Errorf("Docker's fields differ\nmini-docker: %+v %+v\ndocker:      %+v %+v", mine, mine.Healthcheck, theirs, theirs.Healthcheck)
	}
	if v := dockerMajor(t); v < 25 {
		for i, l := range myHistory {
			myHistory[i] = withoutStartInterval(l)
		}
		t.Logf("Docker %d: HEALTHCHECK's history line compared without the start interval (the engine has none)", v)
	}
	if want := dockerHistory(t, tag, 1); strings.Join(myHistory, "\n") != strings.Join(want, "\n") {
		t.Errorf("history differs\nmini-docker:\n%s\ndocker:\n%s", strings.Join(myHistory, "\n"), strings.Join(want, "\n"))
	}
	dout := dockerimages.Build(t, tag+"-child", child, "--build-arg", "PARENT="+tag)
	if !strings.Contains(dout, "# Executing 2 build triggers\n") {
		t.Errorf("docker's output differs from the expectation:\n%s", dout)
	}
	dcfg, err := exec.Command("docker", "image", "inspect", "-f", "{{json .Config.OnBuild}}", tag+"-child").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(childCfg) != strings.TrimSpace(string(dcfg)) {
		t.Errorf("the child's OnBuild: mini-docker %s, docker %s", childCfg, dcfg)
	}
}

// TestBuildHeredocs: BuildKit's heredocs: RUN <<EOF runs the text as a
// script, a heredoc after a command is its input, COPY <<EOF makes a
// file (variables expanded unless the word is quoted).
func TestBuildHeredocs(t *testing.T) {
	e := newEnv(t)
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM " + e.debian + "\nENV WHO=heredoc\n" +
		"RUN <<EOF\nset -e\necho one > /one.txt\necho two >> /one.txt\nEOF\n" +
		"RUN cat <<A > /a.txt && tr a-z A-Z <<-B > /b.txt\nfrom $WHO a\nA\n\tfrom b\n\tB\n" +
		"COPY <<X <<'Y' /files/\nhello $WHO\nX\nliteral $WHO\nY\n" +
		`CMD ["sh", "-c", "cat /one.txt /a.txt /b.txt /files/X /files/Y; stat -c '%a %U' /files/X"]` + "\n"})
	e.must("build", "-t", "heredoc:1", ctx)
	want := "one\ntwo\nfrom heredoc a\nFROM B\nhello heredoc\nliteral $WHO\n644 root\n"
	if got := e.must("run", "--rm", "--network", "none", "heredoc:1"); got != want {
		t.Errorf("the heredoc image printed\n%s\nwant\n%s", got, want)
	}
}

// An ARG after FROM scratch belongs to that stage, not to the global
// ARGs before the first FROM: a later FROM cannot use it, as in Docker.
func TestBuildArgInScratchStageIsNotGlobal(t *testing.T) {
	e := newEnv(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM scratch AS a\nARG IMG=" + e.debian + "\nCOPY Dockerfile /f\nFROM ${IMG}\nRUN true\n",
	})
	if _, errOut, code := e.md("build", ctx); code != 1 || !strings.Contains(errOut, "base name (${IMG}) should not be blank") {
		t.Errorf("exit %d %q, want 1 and Docker's blank base name", code, errOut)
	}
}

// expandDockerfile uses the quoting and ${} forms Docker's builder reads
// with its shell lexer: single quotes keep a $, nested defaults, $1.
const expandDockerfile = `ARG FINAL
FROM ${FINAL}
ARG B=bee
ENV S1='$B' S2="$B" S3=${UNSET:-${B}} S8=${B}x$1y
LABEL l1='$B' "l 2"="${B:+set}"
WORKDIR /w/'$B'
USER "1${UNSET:-0}"
`

// TestBuildExpandsLikeDocker: ENV, LABEL, WORKDIR and USER with quotes
// and nested expansions give the config Docker's classic builder gives.
func TestBuildExpandsLikeDocker(t *testing.T) {
	e := newEnv(t)
	busybox := testenv.PushBusybox(t, e.reg)
	ctx := writeContext(t, map[string]string{"Dockerfile": expandDockerfile})
	e.must("build", "-t", "expand:1", "--build-arg", "FINAL="+busybox, ctx)
	const format = "{{json .Config.Env}} {{json .Config.Labels}} {{.Config.WorkingDir}} {{.Config.User}}"
	mine := e.must("image", "inspect", "-f", format, "expand:1")
	if want := `["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","S1=$B","S2=bee","S3=bee","S8=beexy"] {"l 2":"set","l1":"$B"} /w/$B 10` + "\n"; mine != want {
		t.Errorf("mini-docker's config:\n%s\nwant:\n%s", mine, want)
	}
	testenv.RequireDockerEngine(t)
	dockerPulled(t, busybox)
	tag := fmt.Sprintf("mdtest/expand:%d", os.Getpid())
	dockerimages.Build(t, tag, ctx, "--build-arg", "FINAL="+busybox)
	theirs, err := exec.Command("docker", "image", "inspect", "-f", format, tag).Output()
	if err != nil {
		t.Fatal(err)
	}
	if mine != string(theirs) {
		t.Errorf("configs differ\nmini-docker: %sdocker:      %s", mine, theirs)
	}
}
