package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// lesson runs `mini-docker lesson ARGS` in dir with its own progress file.
func lesson(t *testing.T, dir, state string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Bin(t, "mini-docker"), append([]string{"lesson"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MINI_DOCKER_LESSON_STATE="+state)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// A learner's round: list shows nothing passed, check says ✗ with a hint
// and exits 1, the files made, check says ✓, exits 0 and records it, and
// list shows it passed. Exercise 01.1 is checked from files alone, so
// this needs no root.
func TestLessonCheckAndList(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "lessons.json")
	out, _, code := lesson(t, dir, state, "list")
	if code != 0 || !strings.Contains(out, "    01.1 Escape a plain chroot") || !strings.Contains(out, "0 of ") {
		t.Fatalf("list (%d):\n%s", code, out)
	}
	out, stderr, code := lesson(t, dir, state, "check", "--explain", "01.1")
	if code != 1 || !strings.Contains(out, "✗ secret.txt is outside the jail") || !strings.Contains(out, "  hint: ") ||
		!strings.Contains(stderr, "+ cat "+filepath.Join(dir, "secret.txt")) {
		t.Fatalf("check before (%d):\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(state); err == nil {
		t.Fatal("a failed check recorded progress")
	}
	os.MkdirAll(filepath.Join(dir, "jail"), 0o755)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("only on the host\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "jail", "myescape"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "escaped.txt"), []byte("only on the host\n"), 0o644)
	out, _, code = lesson(t, dir, state, "check", "1.1")
	if code != 0 || !strings.HasSuffix(out, "01.1: all 3 checks pass\n") {
		t.Fatalf("check after (%d):\n%s", code, out)
	}
	out, _, _ = lesson(t, dir, state, "list")
	if !strings.Contains(out, "  ✓ 01.1 ") || !strings.Contains(out, "1 of ") {
		t.Fatalf("list after:\n%s", out)
	}
	if _, _, code := lesson(t, dir, state, "check", "99.1"); code != 1 {
		t.Errorf("an unknown exercise exits %d", code)
	}
	if _, _, code := lesson(t, dir, state, "frobnicate"); code != 125 {
		t.Errorf("an unknown sub-command exits %d", code)
	}
}
