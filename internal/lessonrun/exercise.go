package lessonrun

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// An exercise file (lessons/exercises/NN-*.md) holds each exercise's
// worked solution in blocks marked ```console exercise=03.2, and what
// undoes it in ```console cleanup exercise=03.2. The runner verifies an
// exercise in namespaces and a scratch folder of its own: the checker
// (`mini-docker lesson check 03.2`) must say ✗ before the solution and ✓
// after it, and the system must look the same before and after each time
// it looks.

var exerciseID = regexp.MustCompile(`^[0-9]{2}\.[0-9]+$`)

// parseExerciseID checks the ID of exercise=ID: "03.2".
func parseExerciseID(s string) (string, error) {
	if !exerciseID.MatchString(s) {
		return "", fmt.Errorf("exercise=%q: want a lesson and a number, like exercise=03.2", s)
	}
	return s, nil
}

// Exercise is one exercise of an exercise file: its worked solution and
// its cleanup, in the order the file shows them.
type Exercise struct {
	ID      string
	Steps   []Step
	Cleanup []Step
}

// Exercises groups the steps of a parsed exercise file by exercise. Every
// block of such a file names its exercise.
func (l *Lesson) Exercises() ([]Exercise, error) {
	var out []Exercise
	index := map[string]int{}
	get := func(st Step) (*Exercise, error) {
		if st.Exercise == "" {
			return nil, fmt.Errorf("%s:%d: a console block of an exercise file needs exercise=ID", l.Path, st.Line)
		}
		i, ok := index[st.Exercise]
		if !ok {
			i = len(out)
			index[st.Exercise] = i
			out = append(out, Exercise{ID: st.Exercise})
		}
		return &out[i], nil
	}
	for _, st := range l.Steps {
		e, err := get(st)
		if err != nil {
			return nil, err
		}
		e.Steps = append(e.Steps, st)
	}
	for _, st := range l.Cleanup {
		e, err := get(st)
		if err != nil {
			return nil, err
		}
		e.Cleanup = append(e.Cleanup, st)
	}
	return out, nil
}

// snapshot prints what a check must leave as it was: the mounts under
// the scratch folder (not all of them: the host's come and go, and
// propagate in), the links (names, and whether set up: the carrier
// comes when the peer is up) and IPv4 addresses of the lesson's network
// namespace and of every named one (IPv6 link-local addresses come by
// themselves),
// the scratch folder's files (but mini-docker's state, which running
// containers write to) and the exercises' cgroups (named mine*).
const snapshot = `{ awk -v d="$PWD" 'index($5, d) == 1' /proc/self/mountinfo; ` +
	`links() { ip "$@" -o link | awk '{print $2, ($3 ~ /[<,]UP[,>]/ ? "up" : "down")}'; ip "$@" -o -4 addr | awk '{print $2, $4}'; }; ` +
	`links; for n in $(ip netns list | cut -d" " -f1); do echo "netns $n"; links -n $n; done; ` +
	`find "$PWD" -path "$MINI_DOCKER_ROOT" -prune -o -printf "%p %y %m %s %T@\n"; ` +
	`find /sys/fs/cgroup -maxdepth 3 -type d -name "mine*" 2>/dev/null; } 2>&1`

// checkScript runs the checker on an exercise ($1) between two
// snapshots: any difference is printed, which fails the step. It is a
// script of its own, not a function of the lesson's shell, so that its
// command substitutions never wait on the lesson's background jobs.
const checkScript = `before=$(` + snapshot + `)
mini-docker lesson check "$1"; rc=$?
after=$(` + snapshot + `)
[ "$before" = "$after" ] || { echo "!!! the check changed the system:"; diff <(echo "$before") <(echo "$after"); }
exit $rc
`

// checkStep runs the checker on exercise id, which must fail (a ✗, exit
// 1) before the solution and pass after it.
func checkStep(script, id string, line int, pass bool) Step {
	st := Step{Line: line, Command: "bash " + script + " " + id, Exercise: id}
	if pass {
		st.Expected = []string{"...", id + ": all {{n}} checks pass"}
	} else {
		st.Expected = []string{"...", "✗ {{*}}", "...", id + ": {{n}} of {{n}} checks pass", "[exit 1]"}
	}
	return st
}

// RunExercise verifies one exercise of the exercise file at path in a
// shell, namespaces and scratch folder of its own (as Run gives a
// lesson): the checker says ✗ with nothing done, the worked solution's
// commands give the output the file shows, the checker then says ✓, and
// the cleanup runs. Groups named mine* left in /sys/fs/cgroup afterwards
// fail it.
func RunExercise(path string, ex Exercise, opts Options) error {
	if left := leftGroups(); len(left) > 0 {
		return fmt.Errorf("%s: exercise %s: groups of an earlier run are still there: %v (remove them with rmdir)", path, ex.ID, left)
	}
	line := 0
	if len(ex.Steps) > 0 {
		line = ex.Steps[0].Line
	}
	f, err := os.CreateTemp("", "lesson-check-*.sh")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(checkScript); err != nil {
		f.Close()
		return err
	}
	f.Close()
	steps := append([]Step{checkStep(f.Name(), ex.ID, line, false)}, ex.Steps...)
	steps = append(steps, checkStep(f.Name(), ex.ID, line, true))
	err = Run(&Lesson{Path: path, Steps: steps, Cleanup: ex.Cleanup}, opts)
	if left := leftGroups(); len(left) > 0 && err == nil {
		err = fmt.Errorf("%s: exercise %s: its cleanup left cgroups behind: %v", path, ex.ID, left)
	}
	return err
}

// leftGroups lists the exercises' groups (mine*) in every cgroup tree.
func leftGroups() []string {
	a, _ := filepath.Glob("/sys/fs/cgroup/mine*")
	b, _ := filepath.Glob("/sys/fs/cgroup/*/mine*")
	return append(a, b...)
}
