package lessonrun

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/riskycalls"
	"mini-docker/internal/testenv"
)

func TestParse(t *testing.T) {
	text := "# A lesson\n<!-- requires: docker -->\n```console\n$ echo hi\nhi\n\n$ printf 'a\\n' \\\n  'b'\na\n```\n\n" +
		"```console skip\n$ rm -rf /\n```\n\n```sh\n$ not run\n```\n\n```console cleanup\n$ echo bye\n```\n"
	l, err := Parse("x.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 2 || len(l.Cleanup) != 1 {
		t.Fatalf("got %d steps and %d cleanup steps, want 2 and 1", len(l.Steps), len(l.Cleanup))
	}
	if strings.Join(l.Requires, ",") != "docker" {
		t.Errorf("Requires = %q, want [docker]", l.Requires)
	}
	if l.Steps[0].Line != 4 || l.Steps[0].Command != "echo hi" || strings.Join(l.Steps[0].Expected, "|") != "hi" {
		t.Errorf("step 0 = %+v", l.Steps[0])
	}
	if l.Steps[1].Command != "printf 'a\\n' \\\n  'b'" || strings.Join(l.Steps[1].Expected, "|") != "a" {
		t.Errorf("step 1 = %+v", l.Steps[1])
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"```console\noutput before a command\n```\n",
		"```console\n$ echo unclosed\n",
		"```console bogus\n$ true\n```\n",
		"```console\n$ echo \\\n```\n",
		"<!-- requires: unicorns -->\n```console\n$ true\n```\n",
		"```console host=cgroup-v3\n$ true\n```\n",
		"```console host=\n$ true\n```\n",
		"```console host=cgroup-v2,\n$ true\n```\n",
		"```console cleanup host=ia32|\n$ true\n```\n",
		"```console host=kernel>=6\n$ true\n```\n",
		"```console host=kernel>6.8\n$ true\n```\n",
	} {
		if _, err := Parse("bad.md", text); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", text)
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		expected, actual string
		want             bool
	}{
		{"hello", "hello", true},
		{"hello", "hello   ", true},
		{"hello", "world", false},
		{"pid {{n}}", "pid 4242", true},
		{"pid {{n}}", "pid x", false},
		{"id {{hex}}!", "id 0af3E9!", true},
		{"id {{hex}}!", "id xyz!", false},
		{"a {{*}} c", "a anything at all c", true},
		{"a\n...\nz", "a\nb\nc\nz", true},
		{"a\n...\nz", "a\nz", true},
		{"a\n...\nz", "a\nb", false},
		{"...", "", true},
		{"x.y", "xzy", false}, // no regexp outside the wildcards
		{"a\nb", "a", false},
		{"", "", true},
	}
	for _, c := range cases {
		exp, act := split(c.expected), split(c.actual)
		if got := Match(exp, act); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.expected, c.actual, got, c.want)
		}
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func writeLesson(t *testing.T, text string) *Lesson {
	t.Helper()
	p := t.TempDir() + "/99-test.md"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A lesson whose output matches passes; variables and cd carry over from
// one command to the next; a failing status shows as [exit N].
func TestRunPasses(t *testing.T) {
	testenv.Integration(t)
	l := writeLesson(t, "```console\n$ X=42; mkdir d; cd d\n$ echo $X $(basename $PWD)\n42 d\n"+
		"$ hostname\nworkshop\n$ ip -o link | awk '{print $2}'\nlo:\n$ false\n[exit 1]\n$ echo $$\n{{n}}\n```\n")
	if err := Run(l, Options{BinDir: "/nonexistent"}); err != nil {
		t.Fatal(err)
	}
}

// A lesson with a wrong expected line fails, naming the file and line of
// the command and showing both outputs; its cleanup block still runs, and
// a background process it left is killed.
func TestRunFailsOnWrongOutput(t *testing.T) {
	testenv.Integration(t)
	marker := t.TempDir() + "/cleaned"
	l := writeLesson(t, "intro\n\n```console\n$ sleep 1000 &\n$ echo one\none\n$ echo two\nthree\n$ echo never\nnever\n```\n\n"+
		"```console cleanup\n$ touch "+marker+"\n```\n")
	before := children()
	err := Run(l, Options{BinDir: "/nonexistent"})
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("Run = %v, want a *Failure", err)
	}
	msg := err.Error()
	for _, want := range []string{"99-test.md:7: $ echo two", "--- expected (lesson)", "> three", "+++ actual", "> two"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("cleanup block did not run: %v", err)
	}
	for pid := range children() {
		if !before[pid] {
			t.Errorf("process %d left behind by the lesson", pid)
		}
	}
}

// Mounts a lesson makes never reach the host's mount table.
func TestRunMountsStayInside(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	l := writeLesson(t, "```console\n$ mkdir m && mount -t tmpfs lesson-tmpfs m && findmnt -n -o FSTYPE m\ntmpfs\n```\n")
	if err := Run(l, Options{BinDir: "/nonexistent"}); err != nil {
		t.Fatal(err)
	}
}

func TestParseHost(t *testing.T) {
	text := "```console host=cgroup-v2\n$ echo a\na\n```\n\n```console\n$ echo b\nb\n```\n\n" +
		"```console cleanup host=cgroup-v1|cgroup-hybrid,no-ia32\n$ echo c\n```\n\n```console skip host=ia32\n$ echo d\n```\n"
	l, err := Parse("x.md", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 2 || len(l.Cleanup) != 1 {
		t.Fatalf("got %d steps and %d cleanup steps, want 2 and 1", len(l.Steps), len(l.Cleanup))
	}
	if l.Steps[0].Host.Text != "cgroup-v2" || l.Steps[1].Host.Text != "" || l.Cleanup[0].Host.Text != "cgroup-v1|cgroup-hybrid,no-ia32" {
		t.Errorf("conditions: %q, %q, %q", l.Steps[0].Host.Text, l.Steps[1].Host.Text, l.Cleanup[0].Host.Text)
	}
}

func TestCond(t *testing.T) {
	v2 := &Host{Cgroup: cgroup.V2, IA32: true}
	hybrid := &Host{Cgroup: cgroup.Hybrid, IA32: true}
	v1NoIA32 := &Host{Cgroup: cgroup.V1}
	cases := []struct {
		cond string
		host *Host
		want bool
	}{
		{"cgroup-v2", v2, true},
		{"cgroup-v2", hybrid, false},
		{"cgroup-hybrid", hybrid, true},
		{"cgroup-v1|cgroup-hybrid", hybrid, true},
		{"cgroup-v1|cgroup-hybrid", v1NoIA32, true},
		{"cgroup-v1|cgroup-hybrid", v2, false},
		{"ia32", v2, true},
		{"ia32", v1NoIA32, false},
		{"no-ia32", v1NoIA32, true},
		{"cgroup-v2,ia32", v2, true},
		{"cgroup-v2,no-ia32", v2, false},
		{"cgroup-v1|cgroup-v2,no-ia32", v1NoIA32, true},
		{"kernel>=6.8", &Host{Kernel: "6.8.0-31-generic"}, true},
		{"kernel>=6.8", &Host{Kernel: "6.12.48+deb13-amd64"}, true},
		{"kernel>=6.8", &Host{Kernel: "6.1.0-40-amd64"}, false},
		{"kernel>=6.8", &Host{Kernel: "5.15.0"}, false},
		{"kernel>=6.8", &Host{Kernel: "7.0"}, true},
		{"kernel<6.8", &Host{Kernel: "6.1.0-40-amd64"}, true},
		{"kernel<6.8", &Host{Kernel: "6.18.44-fc-v1045"}, false},
	}
	for _, c := range cases {
		cond, err := ParseCond(c.cond)
		if err != nil {
			t.Fatal(err)
		}
		if got := cond.Holds(c.host); got != c.want {
			t.Errorf("host=%s on %v: %v, want %v", c.cond, c.host, got, c.want)
		}
	}
	if !(Cond{}).Holds(v2) {
		t.Error("the empty condition does not hold")
	}
}

// DetectHost agrees with what the kernel says by other ways: the cgroup
// mode with the file system type of /sys/fs/cgroup (statfs), IA32
// emulation with a direct int 0x80 call, the kernel with
// /proc/sys/kernel/osrelease.
func TestDetectHost(t *testing.T) {
	h, err := DetectHost()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(h)
	var st, unified unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	want := cgroup.V1
	switch {
	case st.Type == unix.CGROUP2_SUPER_MAGIC:
		want = cgroup.V2
	case unix.Statfs("/sys/fs/cgroup/unified", &unified) == nil && unified.Type == unix.CGROUP2_SUPER_MAGIC:
		want = cgroup.Hybrid
	}
	if h.Cgroup != want {
		t.Errorf("cgroup mode %s, but statfs says %s", h.Cgroup, want)
	}
	if rel, _ := os.ReadFile("/proc/sys/kernel/osrelease"); h.Kernel != strings.TrimSpace(string(rel)) {
		t.Errorf("kernel %q, /proc/sys/kernel/osrelease says %q", h.Kernel, rel)
	}
	if h.IA32 {
		if pid, err := riskycalls.Int80Getpid(); err != nil || pid != os.Getpid() {
			t.Errorf("ia32 yes, but int 0x80 getpid = %d, %v", pid, err)
		}
	}
	if !strings.HasPrefix(h.String(), "host: cgroup "+string(h.Cgroup)+", kernel "+h.Kernel+", ia32 ") {
		t.Errorf("host line %q", h.String())
	}
}

// A block for another kind of host is skipped (its command does not
// run, its wrong output does not matter); the block for this host runs,
// and a wrong output in it fails the lesson.
func TestRunHostConditions(t *testing.T) {
	testenv.Integration(t)
	dir := t.TempDir()
	lesson := func(v2Out, v1Out string) string {
		return "```console\n$ echo both\nboth\n```\n\n" +
			"```console host=cgroup-v2\n$ touch " + dir + "/ran-v2; echo v2\n" + v2Out + "\n```\n\n" +
			"```console host=cgroup-v1|cgroup-hybrid\n$ touch " + dir + "/ran-v1; echo v1\n" + v1Out + "\n```\n"
	}
	for _, c := range []struct {
		host       *Host
		ran, other string
	}{
		{&Host{Cgroup: cgroup.V2}, "ran-v2", "ran-v1"},
		{&Host{Cgroup: cgroup.Hybrid}, "ran-v1", "ran-v2"},
	} {
		os.Remove(filepath.Join(dir, "ran-v1"))
		os.Remove(filepath.Join(dir, "ran-v2"))
		// Both variants right: passes, and only this host's block ran.
		if err := Run(writeLesson(t, lesson("v2", "v1")), Options{BinDir: "/nonexistent", Host: c.host}); err != nil {
			t.Errorf("%v: %v", c.host, err)
		}
		if _, err := os.Stat(filepath.Join(dir, c.ran)); err != nil {
			t.Errorf("%v: the matching block did not run: %v", c.host, err)
		}
		if _, err := os.Stat(filepath.Join(dir, c.other)); err == nil {
			t.Errorf("%v: the block for the other kind of host ran", c.host)
		}
		// The other host's variant wrong: still passes here.
		wrongOther, wrongHere := lesson("v2", "WRONG"), lesson("WRONG", "v1")
		if c.host.Cgroup != cgroup.V2 {
			wrongOther, wrongHere = wrongHere, wrongOther
		}
		if err := Run(writeLesson(t, wrongOther), Options{BinDir: "/nonexistent", Host: c.host}); err != nil {
			t.Errorf("%v: a wrong output in the other host's block failed the lesson: %v", c.host, err)
		}
		// This host's variant wrong: fails, naming the condition.
		err := Run(writeLesson(t, wrongHere), Options{BinDir: "/nonexistent", Host: c.host})
		var f *Failure
		if !errors.As(err, &f) || !strings.Contains(err.Error(), "(host=") || !strings.Contains(err.Error(), "> WRONG") {
			t.Errorf("%v: a wrong output in this host's block: Run = %v, want a *Failure naming the condition", c.host, err)
		}
	}
}
