package ignore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDockerignore: comments and blank lines are skipped, * stays in one
// path element, ** crosses them, a folder takes its tree with it, and a
// later ! takes a match back.
func TestDockerignore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# build output\n*.log\nsecret/\n**/*.tmp\n!keep.log\ncafé.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"a.log": true, "keep.log": false, "sub/a.log": false, "secret": true, "secret/key": true,
		"deep/er/x.tmp": true, "x.tmp": true, "main.go": false, "café.txt": true, "cafe.txt": false,
	} {
		if got := m.Ignored(path); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestDockerignoreAsDockerReadsIt: a pattern that climbs out of the
// context (../x) matches nothing, a leading / is dropped, and an
// exception below an excluded folder (!dir/keep) makes a walk go into
// that folder (KeepsBelow) and keeps that one file, as Docker does.
func TestDockerignoreAsDockerReadsIt(t *testing.T) {
	m, err := Parse(strings.NewReader("dir\n!dir/keep\n../x\n/abs\n"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"x": false, "abs": true, "dir": true, "dir/drop": true, "dir/keep": false} {
		if got := m.Ignored(path); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", path, got, want)
		}
	}
	if !m.KeepsBelow("dir") || m.KeepsBelow("abs") || m.KeepsBelow("di") {
		t.Errorf("KeepsBelow: dir %v (want true), abs %v, di %v (want false)", m.KeepsBelow("dir"), m.KeepsBelow("abs"), m.KeepsBelow("di"))
	}
	dir := t.TempDir()
	for _, name := range []string{"dir/keep", "dir/drop", "x"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), make([]byte, 10), 0o644)
	}
	if n := ContextSize(dir, m); n != 20 {
		t.Errorf("context size %d, want 20 (dir/keep and x)", n)
	}
}

// TestContextSize counts the regular files the context sends, not what
// .dockerignore excludes; no .dockerignore excludes nothing.
func TestContextSize(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a": 3, "sub/b": 5, "big.log": 100} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := ContextSize(dir, m); n != 108 {
		t.Errorf("without .dockerignore: %d bytes, want 108", n)
	}
	m, err = Parse(strings.NewReader("*.log\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n := ContextSize(dir, m); n != 8 {
		t.Errorf("with *.log ignored: %d bytes, want 8", n)
	}
}

// FuzzParse: any .dockerignore parses or fails with an error, never a
// panic; a pattern (valid UTF-8) without wildcards or ! ignores the path it names, and
// a ! line naming that same path afterwards takes it back.
func FuzzParse(f *testing.F) {
	f.Add("*.log\n!keep.log\n**/*.tmp\n", "a.log")
	f.Add("secret/\n# comment\n\n", "secret/key")
	f.Add("a/../b\n", "b")
	f.Fuzz(func(t *testing.T, text, path string) {
		m, err := Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		m.Ignored(path)
		// The path the pattern names, as Docker cleans it: one that
		// climbs out of the context names nothing in it.
		rel := filepath.Clean(path)
		if len(rel) > 1 && rel[0] == '/' {
			rel = rel[1:]
		}
		if rel == "." || rel == "/" || rel == ".." || strings.HasPrefix(rel, "../") || !utf8.ValidString(path) || strings.ContainsAny(path, "*?!#\n\r") || strings.TrimSpace(path) != path {
			return
		}
		if m, err = Parse(strings.NewReader(path + "\n")); err != nil || !m.Ignored(rel) {
			t.Fatalf("pattern %q: does not ignore %q (%v)", path, rel, err)
		}
		if m, err = Parse(strings.NewReader(path + "\n!" + path + "\n")); err != nil || m.Ignored(rel) {
			t.Fatalf("pattern %q then !%q: still ignores %q (%v)", path, path, rel, err)
		}
	})
}
