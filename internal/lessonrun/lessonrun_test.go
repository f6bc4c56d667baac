package lessonrun

import (
	"errors"
	"os"
	"strings"
	"testing"

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
