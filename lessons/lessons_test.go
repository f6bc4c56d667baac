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
	opts := lessonrun.Options{BinDir: bin, RegistryStorage: reg.StorageDir, Host: host}
	for _, f := range files {
		name := filepath.Base(f)
		if exs := exercisesAsked(name[:2], only); len(exs) > 0 {
			ran++
			runExercises(t, root, name[:2], exs, opts)
			continue
		}
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
		runExercises(t, root, name[:2], nil, opts)
	}
	if ran == 0 {
		t.Fatalf("no lesson matches LESSON=%q", only)
	}
}

// exercisesAsked returns the exercises of lesson nn that LESSON names
// alone (LESSON=03.2,03.3 runs those, without the lesson itself).
func exercisesAsked(nn, only string) map[string]bool {
	out := map[string]bool{}
	for _, p := range strings.Split(only, ",") {
		if strings.HasPrefix(p, nn+".") {
			out[p] = true
		}
	}
	return out
}

// runExercises verifies the exercises of lesson nn
// (lessons/exercises/NN-*.md), each in namespaces of its own: the checker
// says ✗ with nothing done and ✓ after the worked solution. A non-empty
// only runs just the exercises it holds.
func runExercises(t *testing.T, root, nn string, only map[string]bool, opts lessonrun.Options) {
	files, _ := filepath.Glob(filepath.Join(root, "lessons", "exercises", nn+"-*.md"))
	for _, f := range files {
		l, err := lessonrun.ParseFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		exs, err := l.Exercises()
		if err != nil {
			t.Error(err)
			continue
		}
		for _, ex := range exs {
			if len(only) > 0 && !only[ex.ID] {
				continue
			}
			t.Run("exercise-"+ex.ID, func(t *testing.T) {
				for _, r := range l.Requires {
					if r == "docker" && opts.Host.Docker == "" {
						t.Skipf("!!! EXERCISE %s SKIPPED: it needs Docker's engine and none answers (start it: bash scripts/dockerd)", ex.ID)
					}
				}
				o := opts
				o.Log = testWriter{t}
				o.Env = []string{"MINI_DOCKER_LESSON_STATE=" + filepath.Join(t.TempDir(), "lessons.json")}
				if err := lessonrun.RunExercise(f, ex, o); err != nil {
					t.Fatal(err)
				}
				t.Logf("exercise %s: ✗ before, %d solution command(s), ✓ after", ex.ID, len(ex.Steps))
			})
		}
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
