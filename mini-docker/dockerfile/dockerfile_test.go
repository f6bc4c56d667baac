package dockerfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParse(t *testing.T) {
	ins, err := Parse("# comment\nARG BASE=debian\nFROM $BASE\n\nRUN apt-get update && \\\n    # a comment inside\n    apt-get install -y x\nCOPY --chown=1:2 a b /dst/\nCMD [\"sh\", \"-c\", \"echo hi\"]\nentrypoint echo shell form\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		got = append(got, in.Cmd)
	}
	if strings.Join(got, " ") != "ARG FROM RUN COPY CMD ENTRYPOINT" {
		t.Fatalf("instructions %v", got)
	}
	if ins[2].Line != 5 || ins[2].Args != "apt-get update &&     apt-get install -y x" {
		t.Errorf("RUN: line %d args %q", ins[2].Line, ins[2].Args)
	}
	if !reflect.DeepEqual(ins[3].Flags, []string{"--chown=1:2"}) || ins[3].Args != "a b /dst/" {
		t.Errorf("COPY: flags %q args %q", ins[3].Flags, ins[3].Args)
	}
	if !ins[4].IsJSON || !reflect.DeepEqual(ins[4].JSON, []string{"sh", "-c", "echo hi"}) {
		t.Errorf("CMD exec form: %+v", ins[4])
	}
	if ins[5].IsJSON || ins[5].Args != "echo shell form" {
		t.Errorf("ENTRYPOINT shell form: %+v", ins[5])
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"FROM debian\nRUN true\nFROOM x\n", "Dockerfile parse error line 3: unknown instruction: FROOM x"},
		{"RUN true\n", "Dockerfile parse error line 1: no build stage in current context"},
		{"", "file with no instructions"},
		{"FROM debian\nWORKDIR\n", "line 2: WORKDIR requires at least one argument"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.text, err, tt.want)
		}
	}
}

// TestWord: an instruction's word is expanded as Docker's builder does
// (BuildKit's shell lexer): the ${} forms, quotes taken off with '...'
// keeping its $, an escaped $, positional $1 empty; an unclosed ${ fails.
func TestWord(t *testing.T) {
	vars := map[string]string{"A": "x", "EMPTY": "", "DIR": "/app", "B": "bee"}
	look := Vars(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	tests := map[string]string{
		"$A":               "x",
		"${A}y":            "xy",
		"$DIR/bin":         "/app/bin",
		"${NOPE:-def}":     "def",
		"${EMPTY:-def}":    "def",
		"${A:+set}":        "set",
		"${NOPE:+set}":     "",
		`\$A`:              "$A",
		"a $ b":            "a $ b",
		"${NOPE:-$A-deep}": "x-deep",
		`'$B'`:             "$B",
		`"$B"`:             "bee",
		"${UNSET:-${B}}":   "bee",
		"${B}x$1y":         "beexy",
		"/w/'$B'":          "/w/$B",
	}
	for in, want := range tests {
		if got, err := Word(in, '\\', look); err != nil || got != want {
			t.Errorf("Word(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := Word(`C:\$B`, '`', look); err != nil || got != `C:\bee` {
		t.Errorf("with escape=`: Word(C:\\$B) = %q, %v; want C:\\bee", got, err)
	}
	if got, err := Word("`$B", '`', look); err != nil || got != "$B" {
		t.Errorf("with escape=`: Word(`$B) = %q, %v; want $B", got, err)
	}
	if got, err := Word("${A", '\\', look); err == nil {
		t.Errorf("Word(${A) = %q: an unclosed ${ accepted", got)
	}
}

// TestPairs: ENV and LABEL's pairs as the parser splits them, each word
// expanded on its own.
func TestPairs(t *testing.T) {
	look := Vars(func(k string) (string, bool) { return "bee", k == "B" })
	tests := []struct {
		in   string
		want [][2]string
	}{
		{`A=1 B="two words" C='x y'`, [][2]string{{"A", "1"}, {"B", "two words"}, {"C", "x y"}}},
		{`GREETING hello world`, [][2]string{{"GREETING", "hello world"}}},
		{`A=`, [][2]string{{"A", ""}}},
		{`S1='$B' S2="$B" S3=${UNSET:-${B}}`, [][2]string{{"S1", "$B"}, {"S2", "bee"}, {"S3", "bee"}}},
	}
	for _, tt := range tests {
		ins, err := Parse("FROM x\nENV " + tt.in + "\n")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Pairs(ins[1], look)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Pairs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestApplyChanges(t *testing.T) {
	cfg := ocispec.ImageConfig{Env: []string{"PATH=/bin"}, Cmd: []string{"bash"}}
	got, ext, err := ApplyChanges(cfg, dockerspec.DockerOCIImageConfigExt{}, []string{`ENV A=1`, `WORKDIR /srv`, `ENTRYPOINT ["/bin/app"]`,
		`EXPOSE 80`, `USER nobody`, `LABEL k="v w"`, `HEALTHCHECK CMD true`, `ONBUILD RUN x`})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Env, []string{"PATH=/bin", "A=1"}) || got.WorkingDir != "/srv" || got.User != "nobody" {
		t.Errorf("config: %+v", got)
	}
	// A new ENTRYPOINT drops the base image's CMD, as in Docker.
	if !reflect.DeepEqual(got.Entrypoint, []string{"/bin/app"}) || got.Cmd != nil {
		t.Errorf("entrypoint %q cmd %q", got.Entrypoint, got.Cmd)
	}
	if _, ok := got.ExposedPorts["80/tcp"]; !ok || got.Labels["k"] != "v w" {
		t.Errorf("ports %v labels %v", got.ExposedPorts, got.Labels)
	}
	if !reflect.DeepEqual(cfg.Env, []string{"PATH=/bin"}) {
		t.Errorf("the original config changed: %v", cfg.Env)
	}
	// Docker's own fields, as docker import -c 'HEALTHCHECK CMD true' sets them.
	if ext.Healthcheck == nil || !reflect.DeepEqual(ext.Healthcheck.Test, []string{"CMD-SHELL", "true"}) || !reflect.DeepEqual(ext.OnBuild, []string{"RUN x"}) {
		t.Errorf("ext: %+v", ext)
	}
	// Docker 20.10's words for what BuildFromConfig refuses.
	for _, bad := range []string{"RUN true", "STOPSIGNAL 9", "SHELL [\"sh\"]", "FROM x"} {
		_, _, err := ApplyChanges(cfg, dockerspec.DockerOCIImageConfigExt{}, []string{bad})
		want := strings.ToLower(strings.Fields(bad)[0]) + " is not a valid change command"
		if err == nil || err.Error() != want {
			t.Errorf("change %q: %v, want %q", bad, err, want)
		}
	}
}

// TestHeredocScript: what RUN's shell runs for each heredoc form.
func TestHeredocScript(t *testing.T) {
	ins, err := Parse("FROM x\nRUN <<EOF\necho a\necho b\nEOF\nRUN cat <<A > /a && cat <<-B > /b\none\nA\n\ttwo\n\tB\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := heredocScript(ins[1]); got != "echo a\necho b\n" {
		t.Errorf("RUN <<EOF runs %q", got)
	}
	if got := heredocScript(ins[2]); got != "cat <<A > /a && cat <<-B > /b\none\nA\n\ttwo\nB" {
		t.Errorf("RUN with two heredocs runs %q", got)
	}
}

// TestContentHashTellsTreesApart: COPY's cache key. A file whose bytes
// spell the next entry of another tree ("Q\n\"/x/b\" 644 R") must not
// give that tree's key, or a build reuses the wrong image (Using cache).
func TestContentHashTellsTreesApart(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := []copyFile{{src: write("a1", "Q\n/x/b 644 R"), dest: "/x/a"}}
	two := []copyFile{{src: write("a2", "Q"), dest: "/x/a"}, {src: write("b2", "R"), dest: "/x/b"}}
	quoted := []copyFile{{src: write("a3", "Q\n\"/x/b\" 644 R"), dest: "/x/a"}}
	keys := map[string]string{}
	for name, files := range map[string][]copyFile{"one file": one, "two files": two, "one file, quoted": quoted} {
		k, err := contentHash(files, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := keys[k]; ok {
			t.Errorf("%s and %s have the same cache key", name, other)
		}
		keys[k] = name
	}
}
