package lessons

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

// A by-hand step often writes under a path it looked up first
// (M=$(cgroupctl info | awk ...), then mkdir $M/byhand). When the lookup
// comes back empty (a pure v2 host has no memory tree), $M/byhand is
// /byhand, at the root of the learner's machine. These tests hold every
// lesson, every host variant of every block, to the rule: a variable set
// from a command's output starts a path only as ${V:?...}, which stops
// the command when V is empty.

// assignedFromOutput matches V=$(...) and V=`...`: the lookups.
var assignedFromOutput = regexp.MustCompile("(?:^|[\\s;&|(!])([A-Za-z_][A-Za-z0-9_]*)=(?:\\$\\(|`)")

// byHandStep is a step of a lesson or of an exercise's worked solution.
type byHandStep struct {
	lessonrun.Step
	// Cleanup marks a cleanup step: it may test the variable itself
	// ([ -n "$G" ] && ...) and end in `true`, so it succeeds without it.
	Cleanup bool
}

// lessonSteps returns, per file, every step of every lesson and of
// every exercise file (lessons/exercises/NN-*.md: the worked solutions
// are by-hand steps too), all host variants, cleanup included.
func lessonSteps(t *testing.T) map[string][]byHandStep {
	t.Helper()
	root := filepath.Join(testenv.RepoRoot(), "lessons")
	files, _ := filepath.Glob(filepath.Join(root, "[0-9][0-9]-*.md"))
	exercises, _ := filepath.Glob(filepath.Join(root, "exercises", "[0-9][0-9]-*.md"))
	if len(files) == 0 || len(exercises) == 0 {
		t.Fatal("no lessons or no exercises found")
	}
	out := map[string][]byHandStep{}
	for _, f := range append(files, exercises...) {
		l, err := lessonrun.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, f)
		for _, st := range l.Steps {
			out[name] = append(out[name], byHandStep{Step: st})
		}
		for _, st := range l.Cleanup {
			out[name] = append(out[name], byHandStep{Step: st, Cleanup: true})
		}
	}
	return out
}

// assignment matches V=VALUE, the value up to the end of the word.
var assignment = regexp.MustCompile(`(?:^|[\s;&|(!])([A-Za-z_][A-Za-z0-9_]*)=([^\s;&|)]*)`)

// lookupVars returns the variables a file sets from a command's output,
// and those set from a value built on one of them (G=$M/mine-mem: G is
// empty-rooted when M is empty), until no more come.
func lookupVars(steps []byHandStep) []string {
	seen := map[string]bool{}
	for _, st := range steps {
		for _, m := range assignedFromOutput.FindAllStringSubmatch(st.Command, -1) {
			seen[m[1]] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for _, st := range steps {
			for _, m := range assignment.FindAllStringSubmatch(st.Command, -1) {
				if seen[m[1]] {
					continue
				}
				for v := range seen {
					if regexp.MustCompile(`\$(` + v + `\b|\{` + v + `[}:?#%/-])`).MatchString(m[2]) {
						seen[m[1]], grew = true, true
						break
					}
				}
			}
		}
	}
	var vars []string
	for v := range seen {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	return vars
}

// unguardedUse matches $V/ and ${V}/ (and ${V-x}/, ${V:-x}/) where a
// word or an assignment starts: a path that starts wherever V points, or
// at / when V is empty. (/proc/$PID/ns is not one: it starts at /proc.)
func unguardedUse(v string) *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s"'=<>:(])\$(` + v + `|\{` + v + `(?:[-:][^?}][^}]*|-)?\})/`)
}

// guardedUse matches ${V:?...}/.
func guardedUse(v string) *regexp.Regexp {
	return regexp.MustCompile(`\$\{` + v + `:\?[^}]*\}/`)
}

func TestLessonPathsFromLookupsAreGuarded(t *testing.T) {
	checked := 0
	for name, steps := range lessonSteps(t) {
		for _, v := range lookupVars(steps) {
			bad := unguardedUse(v)
			for _, st := range steps {
				if bad.MatchString(st.Command) {
					t.Errorf("%s:%d: $%s/ starts a path, and %s comes from a lookup: write \"${%s:?}/...\" so an empty lookup never writes at /\n  $ %s",
						name, st.Line, v, v, v, st.Command)
				}
				if guardedUse(v).MatchString(st.Command) {
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no guarded path found in any lesson: the scan finds nothing (lesson 03's ${M:?} steps should be there)")
	}
}

// TestLessonGuardsHoldWhenLookupEmpty runs every step that starts a path
// with a looked-up variable, of every host variant (the v2 and the
// v1/hybrid blocks alike, whatever this host is), in a lesson sandbox
// with the variable forced empty, and checks that the path the step
// would have written with an empty variable (/byhand for $M/byhand) did
// not appear on the host.
func TestLessonGuardsHoldWhenLookupEmpty(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireRoot(t)
	bin := filepath.Dir(testenv.Bin(t, "mini-docker"))
	for _, tool := range []string{"cgroupctl", "hog", "capctl", "bindport", "unshare", "vethctl", "overlay", "pull", "chroot", "seccompctl"} {
		testenv.Bin(t, tool)
	}
	host, err := lessonrun.DetectHost()
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for name, steps := range lessonSteps(t) {
		for _, v := range lookupVars(steps) {
			guarded := guardedUse(v)
			for _, st := range steps {
				uses := guarded.FindAllStringIndex(st.Command, -1)
				if len(uses) == 0 {
					continue
				}
				// Where each use would point with v empty: its first
				// path component, at the root.
				var targets []string
				for _, u := range uses {
					rest := st.Command[u[1]:]
					comp := regexp.MustCompile(`^[A-Za-z0-9._-]+`).FindString(rest)
					if comp != "" {
						targets = append(targets, "/"+comp)
					}
				}
				for _, p := range targets {
					if _, err := os.Stat(p); err == nil {
						t.Fatalf("%s exists on the host before the test: remove it first", p)
					}
				}
				// Force the lookup empty: before the step, or, when the
				// step makes the lookup itself, by turning its command
				// substitution into one that prints nothing ($(: ...)).
				cmd, own := st.Command, strings.Contains(st.Command, v+"=$(")
				if own {
					cmd = strings.ReplaceAll(cmd, v+"=$(", v+"=$(: ")
				} else {
					cmd = v + "=''\n" + cmd
				}
				l := &lessonrun.Lesson{Path: name, Steps: []lessonrun.Step{{Line: st.Line, Command: cmd}}}
				err := lessonrun.Run(l, lessonrun.Options{BinDir: bin, Host: host})
				switch {
				case err == nil && (st.Cleanup || strings.HasSuffix(strings.TrimSpace(st.Command), "&")):
					// A cleanup may test the variable itself; a job started
					// in the background stops at the guard while the step
					// goes on. Neither may write: see below.
				case err == nil:
					t.Errorf("%s:%d: with %s empty the step still succeeded", name, st.Line, v)
				case !own && !strings.Contains(err.Error(), v+": "):
					t.Errorf("%s:%d: with %s empty the step did not stop at the guard:\n%v", name, st.Line, v, err)
				}
				for _, p := range targets {
					if _, err := os.Stat(p); err == nil {
						os.RemoveAll(p)
						t.Errorf("%s:%d: with %s empty the step wrote %s on the host", name, st.Line, v, p)
					}
				}
				ran++
			}
		}
	}
	if ran == 0 {
		t.Fatal("no guarded step found to run")
	}
	t.Logf("%d steps run with their lookup forced empty; none wrote outside the sandbox", ran)
}
