package main

// Scripting output (issue 18, item 4): ps and images with --format,
// --filter, -q, -l/-n/-s; inspect, info and version templates; each
// failure worded and coded as the docker CLI's.

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// TestPsFormatAndFilters: containers a script would list, each way
// docker ps lists them.
func TestPsFormatAndFilters(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-d", "--network", "none", "--name", "web", "--label", "tier=web", "--label", "com.example.team=a", ref, "sleep", "300")
	h.host("run", "--network", "none", "--name", "job", "--label", "tier=batch", ref, "sh", "-c", "exit 3")
	h.mustHost("run", "-d", "--network", "none", "--name", "last", ref, "sleep", "300")
	t.Cleanup(func() { h.host("rm", "-f", "web", "job", "last") })

	if got := h.mustHost("ps", "--format", `{{.Names}}\t{{.Status}}`); !strings.Contains(got, "web\tUp ") || !strings.Contains(got, "last\tUp ") || strings.Contains(got, "job") {
		t.Errorf("ps --format:\n%s", got)
	}
	table := strings.Split(strings.TrimSpace(h.mustHost("ps", "-a", "--format", `table {{.Names}}\t{{.Label "com.example.team"}}\t{{.State}}`)), "\n")
	if len(table) != 4 || strings.Join(strings.Fields(table[0]), " ") != "NAMES team STATE" {
		t.Errorf("table:\n%s", strings.Join(table, "\n"))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--filter", "status=exited"}, "job"},
		{[]string{"ps", "-a", "--filter", "label=tier=web"}, "web"},
		{[]string{"ps", "-a", "--filter", "label=tier", "--filter", "label=com.example.team"}, "web"},
		{[]string{"ps", "-a", "--filter", "exited=3"}, "job"},
		{[]string{"ps", "-a", "--filter", "name=^/?la"}, "last"},
		{[]string{"ps", "--filter", "since=web"}, "last"},
		{[]string{"ps", "-a", "--filter", "before=job"}, "web"},
		{[]string{"ps", "-l"}, "last"},
		{[]string{"ps", "-n", "2"}, "last job"},
		{[]string{"ps", "-a", "--filter", "ancestor=" + ref, "--filter", "status=running", "--filter", "status=exited"}, "last job web"},
		{[]string{"ps", "-a", "--filter", "label=nosuch"}, ""},
	} {
		got := strings.Join(strings.Fields(h.mustHost(append(c.args, "--format", "{{.Names}}")...)), " ")
		if got != c.want {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
	ids := strings.Fields(h.mustHost("ps", "-aq"))
	if len(ids) != 3 || len(ids[0]) != 12 {
		t.Errorf("ps -aq: %v", ids)
	}
	if got := strings.TrimSpace(h.mustHost("ps", "--filter", "id="+ids[0][:5], "-q", "--no-trunc")); len(got) != 64 || got[:12] != ids[0] {
		t.Errorf("ps --filter id= -q --no-trunc: %q", got)
	}
	head := strings.Split(h.mustHost("ps", "-s", "--filter", "name=web"), "\n")
	if !strings.HasSuffix(strings.TrimSpace(head[0]), "NAMES     SIZE") || !strings.Contains(head[1], "B (virtual ") {
		t.Errorf("ps -s:\n%s", strings.Join(head, "\n"))
	}
	if got := h.mustHost("ps", "--format", "json", "--filter", "name=web"); !strings.Contains(got, `"Labels":"com.example.team=a,tier=web"`) || !strings.Contains(got, `"Names":"web"`) {
		t.Errorf("ps --format json: %s", got)
	}
}

// TestImagesQuietRmi: `mini-docker rmi $(mini-docker images -q)` empties
// the store, as with Docker; -q, --digests and --filter list as docker images.
func TestImagesQuietRmi(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("tag", ref, "second:v1")
	ids := strings.Fields(h.mustHost("images", "-q"))
	if len(ids) != 2 || len(ids[0]) != 12 || ids[0] != ids[1] {
		t.Fatalf("images -q: %v", ids)
	}
	if got := strings.TrimSpace(h.mustHost("images", "--format", "{{.Repository}}:{{.Tag}}", "second")); got != "second:v1" {
		t.Errorf("images second: %q", got)
	}
	if got := strings.TrimSpace(h.mustHost("images", "--filter", "reference=sec*", "-q")); got != ids[0] {
		t.Errorf("--filter reference: %q", got)
	}
	if got := strings.TrimSpace(h.mustHost("images", "--filter", "dangling=true", "-q")); got != "" {
		t.Errorf("--filter dangling=true: %q", got)
	}
	if head := strings.Fields(strings.Split(h.mustHost("images", "--digests"), "\n")[0]); strings.Join(head, " ") != "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE" {
		t.Errorf("--digests header: %v", head)
	}
	h.mustHost(append([]string{"rmi"}, ids...)...)
	if got := h.mustHost("images", "-q"); got != "" {
		t.Errorf("after rmi $(images -q): %q", got)
	}
}

// TestFormatErrorsAsDocker: a bad template or filter fails with the
// docker CLI's message and exit code (here beside the real docker's).
func TestFormatErrorsAsDocker(t *testing.T) {
	testenv.RequireDockerEngine(t)
	h := newHarness(t)
	ref := h.busybox()
	// docker images evaluates --format only when it has an image to
	// print (with none it exits 0), so the engine gets the same one.
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", ref).Run() })
	for _, args := range [][]string{
		{"ps", "--format", "{{.Foo}}"},
		{"ps", "--format", "{{.Names"},
		{"ps", "--filter", "foo=bar"},
		{"ps", "--filter", "status=bogus"},
		{"ps", "--filter", "health=bogus"},
		{"images", "--format", "{{.Foo}}"},
		{"images", "--filter", "dangling=maybe"},
		{"images", "--filter", "bogus=1"},
		{"info", "--format", "{{.Foo}}"},
		{"version", "--format", "{{.Foo}}"},
	} {
		dout, derr := exec.Command("docker", args...).CombinedOutput()
		dcode := 0
		if x, ok := derr.(*exec.ExitError); ok {
			dcode = x.ExitCode()
		}
		_, errOut, code := h.host(args...)
		want := strings.TrimPrefix(strings.TrimSpace(string(dout)), "Error response from daemon: ")
		got := strings.TrimPrefix(strings.TrimSpace(errOut), "mini-docker: error: ")
		if code != dcode || got != want {
			t.Errorf("%v:\n mini-docker (exit %d): %s\n docker      (exit %d): %s", args, code, got, dcode, want)
		}
	}
	// A filter without '=' is a usage error, 125 for both.
	_, _, dcode := runCmd(t, exec.Command("docker", "ps", "--filter", "name"))
	if _, errOut, code := h.host("ps", "--filter", "name"); code != 125 || dcode != 125 || !strings.Contains(errOut, "bad format of filter (expected name=value)") {
		t.Errorf("ps --filter name: exit %d (docker %d) %s", code, dcode, errOut)
	}
}

// TestInspectTemplates: inspect reads a template on the typed record,
// then on its JSON (so .Id and .State.Pid both work); several objects
// give one line each; json is the array on one line; a missing key is
// docker's error.
func TestInspectTemplates(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "--network", "none", "--name", "c1", ref, "true")
	h.mustHost("run", "--network", "none", "--name", "c2", ref, "true")
	t.Cleanup(func() { h.host("rm", "-f", "c1", "c2") })
	out, errOut, code := h.host("inspect", "--format", "{{.Name}} {{.State.ExitCode}} {{len .Id}}", "c1", "nosuch", "c2")
	if out != "/c1 0 64\n/c2 0 64\n" || code != 1 || !strings.Contains(errOut, "No such object: nosuch") {
		t.Errorf("inspect a nosuch b: exit %d %q %q", code, out, errOut)
	}
	if out := h.mustHost("inspect", "--format", "json", "c1", "c2"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `[{"Id":`) {
		t.Errorf("--format json: %.200s", out)
	}
	if _, errOut, code := h.host("inspect", "--format", "{{.Foo}}", "c1"); code != 1 || !strings.Contains(errOut, `template parsing error: template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`) {
		t.Errorf("{{.Foo}}: exit %d %s", code, errOut)
	}
	if _, errOut, code := h.host("inspect", "--format", "{{.Name", "c1"); code != 64 || !strings.Contains(errOut, "unclosed action") {
		t.Errorf("{{.Name: exit %d %s", code, errOut)
	}
	if got := strings.Fields(h.mustHost("info", "--format", "{{.Containers}} {{.ContainersStopped}} {{.Images}} {{.Driver}}")); strings.Join(got, " ") != "2 2 1 overlay2" {
		t.Errorf("info --format: %v", got)
	}
}

// TestLogsStreams: logs keeps stdout and stderr apart as Docker's
// json-file does (each line stored with its stream and time) and writes
// each to its own descriptor; -n, -t, --since, --until and -f select as
// docker logs does, for a foreground and a detached container.
func TestLogsStreams(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	script := "echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf tail"
	if out, errOut, code := h.host("run", "--network", "none", "--name", "fg", ref, "sh", "-c", script); code != 0 || out != "out1\nout2\ntail" || errOut != "err1\nerr2\n" {
		t.Fatalf("run: exit %d %q %q", code, out, errOut)
	}
	h.mustHost("run", "-d", "--network", "none", "--name", "bg", ref, "sh", "-c", script)
	t.Cleanup(func() { h.host("rm", "-f", "fg", "bg") })
	for _, name := range []string{"fg", "bg"} {
		// -f returns when the container has ended, with everything it wrote.
		out, errOut, code := h.host("logs", "-f", name)
		if code != 0 || out != "out1\nout2\ntail" || errOut != "err1\nerr2\n" {
			t.Errorf("logs -f %s: exit %d stdout %q stderr %q", name, code, out, errOut)
		}
	}
	// The last two lines: "tail" (its partial line is written when the
	// stream ends, so always last) and one of the others: the two streams
	// are read by two pipes, so their order between them is the kernel's.
	out, errOut, _ := h.host("logs", "-n", "2", "-t", "fg")
	var texts []string
	for _, l := range strings.Split(strings.TrimSpace(out+"\n"+errOut), "\n") {
		stamp, text, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
			t.Errorf("logs -n 2 -t line %q: %v", l, err)
		}
		texts = append(texts, text)
	}
	if len(texts) != 2 || !strings.Contains(strings.Join(texts, " "), "tail") {
		t.Errorf("logs -n 2 -t: %q %q", out, errOut)
	}
	if out, errOut, _ := h.host("logs", "--since", "1h", "--until", "30m", "fg"); out+errOut != "" {
		t.Errorf("--since 1h --until 30m: %q %q", out, errOut)
	}
	if out, _, _ := h.host("logs", "--since", "5m", "fg"); out != "out1\nout2\ntail" {
		t.Errorf("--since 5m: %q", out)
	}

	// A large log is read one line at a time: -n 3 and --since of a log
	// of 96 MiB hold a few MiB, not the log (which took gigabytes).
	logPath := strings.TrimSpace(h.mustHost("inspect", "-f", "{{.LogPath}}", "fg"))
	lf, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"log":"` + strings.Repeat("x", 1000) + `\n","stream":"stdout","time":"2026-01-02T03:04:05.000000000Z"}` + "\n")
	bw := bufio.NewWriterSize(lf, 1<<20)
	for i := 0; i < 96<<10; i++ {
		bw.Write(line)
	}
	bw.Flush()
	lf.Close()
	for _, args := range [][]string{{"logs", "-n", "3", "fg"}, {"logs", "--since", "5m", "fg"}} {
		cmd := h.command(false, args...)
		out, _, code := runCmd(t, cmd)
		maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
		if code != 0 || maxRSS > 64<<10 {
			t.Errorf("%v of a 96 MiB log: exit %d, max RSS %d KiB (want under 64 MiB), %d bytes out", args, code, maxRSS, len(out))
		}
	}
}
