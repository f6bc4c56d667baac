package lessons

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

// fakeChecker stands in for `mini-docker lesson check` on PATH: a checker
// that breaks the rule on purpose. Its first call (before the worked
// solution) changes what $CHANGE names and says ✗; its second says ✓.
const fakeChecker = `#!/bin/bash
n=$(cat "$COUNT" 2>/dev/null || echo 0); echo $((n + 1)) > "$COUNT"
if [ "$n" = 0 ]; then
  case "$CHANGE" in
  file) touch left-by-the-check ;;
  mount) mount --bind "$PWD" "$PWD" ;;
  link) ip link add chk0 type veth peer name chk1 ;;
  cgroup) mkdir "$CGROUP" ;;
  esac
  printf '%s\n' "$3 a checker" "✗ a condition: it does not hold" "$3: 0 of 1 checks pass"
  exit 1
fi
printf '%s\n' "$3 a checker" "✓ a condition" "$3: all 1 checks pass"
`

// TestACheckThatChangesTheSystemFails holds make lessons' promise that
// checking never changes the system: an exercise whose checker leaves a
// file in the scratch folder, a mount under it, a link in the lesson's
// network namespace or an exercise's cgroup (mine*) fails, with the
// difference printed; the same checker changing nothing passes.
func TestACheckThatChangesTheSystemFails(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireRoot(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "mini-docker"), []byte(fakeChecker), 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := lessonrun.DetectHost()
	if err != nil {
		t.Fatal(err)
	}
	// An exercise's group goes where lesson 03's do: the v2 root, else
	// the pids tree.
	cgroup := "/sys/fs/cgroup/pids/mine-check-rule"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.procs"); err == nil {
		cgroup = "/sys/fs/cgroup/mine-check-rule"
	}
	for _, change := range []string{"none", "file", "mount", "link", "cgroup"} {
		t.Run(change, func(t *testing.T) {
			t.Cleanup(func() { os.Remove(cgroup) })
			ex := lessonrun.Exercise{ID: "99.1",
				Steps:   []lessonrun.Step{{Line: 1, Command: "true", Exercise: "99.1"}},
				Cleanup: []lessonrun.Step{{Line: 1, Command: "rmdir " + cgroup + " 2>/dev/null; true", Exercise: "99.1"}}}
			var log strings.Builder
			err := lessonrun.RunExercise("check-rule", ex, lessonrun.Options{BinDir: bin, Host: host, Log: &log,
				Env: []string{"CHANGE=" + change, "COUNT=" + filepath.Join(t.TempDir(), "count"), "CGROUP=" + cgroup}})
			switch {
			case err != nil && strings.Contains(err.Error(), "groups of an earlier run are still there"):
				t.Skipf("another run's exercise groups are on the host: %v", err)
			case change == "none" && err != nil:
				t.Fatalf("a checker that changes nothing failed: %v\n%s", err, log.String())
			case change != "none" && err == nil:
				t.Fatalf("a checker that made a %s passed", change)
			case change != "none" && !strings.Contains(err.Error(), "!!! the check changed the system"):
				t.Fatalf("a checker that made a %s failed, but not for the change:\n%v", change, err)
			}
			if err != nil {
				msg := err.Error()
				t.Logf("%s: %s", change, firstLines(msg[strings.Index(msg, "!!! the check"):], 6))
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", strings.Count(s, "\n")-n+1))
	}
	return strings.Join(lines, "\n")
}
