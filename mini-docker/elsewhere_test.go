package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// TestElsewhereKeepsRoot: import runs in mini-docker-build, which reads
// the state root from $MINI_DOCKER_ROOT. --root must win over the
// variable the user exported, as it does for every other command: the
// image lands under --root's store, and nothing under the variable's.
func TestElsewhereKeepsRoot(t *testing.T) {
	bin := testenv.Bin(t, "mini-docker")
	exported, flag := t.TempDir(), t.TempDir()
	cmd := exec.Command(bin, "--root", flag, "import", "-", "empty:1")
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+exported)
	cmd.Stdin = strings.NewReader(string(make([]byte, 1024))) // an empty tar: two zero blocks
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--root", flag, "images", "-q", "empty:1").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Errorf("images -q empty:1 under --root: %q %v, want the imported image", out, err)
	}
	if left, _ := os.ReadDir(exported); len(left) != 0 {
		t.Errorf("the exported MINI_DOCKER_ROOT got %d entries (%s...), want none", len(left), filepath.Join(exported, left[0].Name()))
	}
}
