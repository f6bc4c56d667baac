// Package lessons holds the workshop; this test checks every lesson.
// Run it with `sudo make lessons` (or `make lessons LESSON=03`).
package lessons

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestLessons runs each lessons/NN-*.md in order, in its own namespaces,
// with the built bin/ first on PATH and the test registry at $REGISTRY.
func TestLessons(t *testing.T) {
	if os.Getenv("MINI_DOCKER_LESSONS") != "1" {
		t.Skip("lessons run with `make lessons` (MINI_DOCKER_LESSONS=1)")
	}
	testenv.Integration(t)
	root := testenv.RepoRoot()
	bin := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(bin, "mini-docker")); err != nil {
		t.Fatalf("the tools are not built in %s: run make first", bin)
	}
	files, _ := filepath.Glob(filepath.Join(root, "lessons", "[0-9][0-9]-*.md"))
	sort.Strings(files)
	only := os.Getenv("LESSON")
	reg := testenv.SharedRegistry(t)
	if err := testenv.PushStandardImages(reg); err != nil {
		t.Fatal(err)
	}
	os.Setenv("DEBIAN_TAR", testenv.DebianTar(t))
	// What the host is decides which variant of a host-conditional block
	// (```console host=cgroup-v2) is checked; each lesson's log starts
	// with it.
	host, err := lessonrun.DetectHost()
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, f := range files {
		name := filepath.Base(f)
		if !selected(name, only) {
			continue
		}
		ran++
		t.Run(strings.TrimSuffix(name, ".md"), func(t *testing.T) {
			l, err := lessonrun.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range l.Requires {
				if r == "docker" && host.Docker == "" {
					out, _ := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
					t.Skipf("!!! LESSON %s SKIPPED: it needs Docker's engine and none answers (start it: bash scripts/dockerd): %s",
						name, strings.TrimSpace(string(out)))
				}
			}
			if len(l.Steps) == 0 {
				t.Fatalf("%s has no console block to check", name)
			}
			err = lessonrun.Run(l, lessonrun.Options{BinDir: bin, RegistryStorage: reg.StorageDir, Log: testWriter{t}, Host: host})
			if err != nil {
				t.Fatal(err)
			}
			run := 0
			for _, st := range l.Steps {
				if st.Host.Holds(host) {
					run++
				}
			}
			t.Logf("%s: %d commands checked, %d for other hosts skipped", name, run, len(l.Steps)-run)
		})
	}
	if ran == 0 {
		t.Fatalf("no lesson matches LESSON=%q", only)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// selected reports whether lesson file name is one LESSON asks for: every
// lesson when it is empty, else those whose name starts with one of its
// comma-separated prefixes (LESSON=03,09).
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for _, p := range strings.Split(only, ",") {
		if p != "" && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
