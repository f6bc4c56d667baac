// Package exercise is the frame of the workshop's exercise checker
// (package lessoncheck holds each lesson's exercises): what an exercise
// and a check are, the registry, running the checks and printing their
// results as `mini-docker lesson check 03.2` shows them, and the
// learner's progress (`mini-docker lesson list`). It belongs to every
// lesson from 01 to 15.
//
// A check only looks; it never writes, mounts, creates or removes
// anything (see package lessoncheck).
package exercise

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/explain"
)

// Exercise is one exercise of a lesson, "03.2".
type Exercise struct {
	ID    string // "03.2": the lesson, a dot, the exercise's number
	Title string // as in lessons/exercises/NN-*.md
	// Checks returns the conditions to look at, with paths resolved for
	// this host (the cgroup files are elsewhere on v1 and v2).
	Checks func(s *State) []Check
}

// Check is one condition of an exercise.
type Check struct {
	What string // "pids.max of mine is 50"
	// Cmd is the shell command a learner could type to look for
	// themselves (--explain prints it): "cat /sys/fs/cgroup/mine/pids.max".
	Cmd string
	// Hint says what to do when the condition does not hold.
	Hint string
	// Test returns nil when the condition holds, else why not
	// ("it is max"). It must not change anything.
	Test func() error
}

// State is what the checks look at: the learner's scratch folder and the
// host's cgroup mounts.
type State struct {
	Dir    string       // the scratch folder: paths in exercises are relative to it
	Cgroup *cgroup.Host // nil when no cgroup file system is mounted
}

// Path resolves a path of the exercise against the scratch folder.
func (s *State) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// CgroupDir is where groups with controller ctrl are made on this host:
// the cgroup2 root on v2, the controller's v1 hierarchy on v1 and hybrid
// hosts (as cgroupctl and Docker do there).
func (s *State) CgroupDir(ctrl string) string {
	if s.Cgroup == nil {
		return "/sys/fs/cgroup"
	}
	if s.Cgroup.Mode == cgroup.V2 {
		return s.Cgroup.V2Root
	}
	if p := s.Cgroup.V1[ctrl]; p != "" {
		return p
	}
	return filepath.Join("/sys/fs/cgroup", ctrl)
}

// V2 reports whether groups live in the unified tree.
func (s *State) V2() bool { return s.Cgroup != nil && s.Cgroup.Mode == cgroup.V2 }

// NewState looks at the host's cgroups (with cgroupctl's own detection)
// for a learner working in dir.
func NewState(dir string) *State {
	s := &State{Dir: dir}
	if h, err := cgroup.Detect(); err == nil {
		s.Cgroup = h
	}
	return s
}

var exercises = map[string]*Exercise{}

// Register adds exercises at init time; each of lessoncheck's
// lessonNN.go files calls it.
func Register(es ...*Exercise) {
	for _, e := range es {
		if exercises[e.ID] != nil {
			panic("exercise: exercise " + e.ID + " registered twice")
		}
		exercises[e.ID] = e
	}
}

// All returns every exercise, in lesson order.
func All() []*Exercise {
	var out []*Exercise
	for _, e := range exercises {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return lessThan(out[i].ID, out[j].ID) })
	return out
}

// lessThan orders IDs by lesson then number: 03.2 < 03.10 < 04.1.
func lessThan(a, b string) bool {
	var al, an, bl, bn int
	fmt.Sscanf(a, "%d.%d", &al, &an)
	fmt.Sscanf(b, "%d.%d", &bl, &bn)
	if al != bl {
		return al < bl
	}
	return an < bn
}

// Find returns the exercise with that ID ("03.2"; "3.2" works too).
func Find(id string) (*Exercise, error) {
	var l, n int
	if _, err := fmt.Sscanf(id, "%d.%d", &l, &n); err == nil {
		if e := exercises[fmt.Sprintf("%02d.%d", l, n)]; e != nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("no exercise %q (see `mini-docker lesson list`)", id)
}

// Result is what one check found.
type Result struct {
	Check Check
	Err   error // nil: it holds
}

// Run looks at every condition of e, in order; ex prints each check's
// command before it runs (nil: silent).
func (e *Exercise) Run(s *State, ex *explain.Printer) []Result {
	var out []Result
	for _, c := range e.Checks(s) {
		ex.Cmd("%s", c.Cmd)
		out = append(out, Result{Check: c, Err: c.Test()})
	}
	return out
}

// Passed reports whether every check holds.
func Passed(rs []Result) bool {
	for _, r := range rs {
		if r.Err != nil {
			return false
		}
	}
	return len(rs) > 0
}

// Print writes the results as the learner sees them: a title, one line
// per check, the hint of the first that fails, and a last line that says
// whether all hold:
//
//	03.2 Cap a fork bomb at 50 tasks
//	✓ a cgroup mine exists in the pids tree
//	✗ pids.max of mine is 50: it is max
//	  hint: echo 50 > /sys/fs/cgroup/pids/mine/pids.max
//	03.2: 1 of 2 checks pass
func Print(w io.Writer, e *Exercise, rs []Result) {
	fmt.Fprintf(w, "%s %s\n", e.ID, e.Title)
	hinted, pass := false, 0
	for _, r := range rs {
		if r.Err == nil {
			pass++
			fmt.Fprintf(w, "✓ %s\n", r.Check.What)
			continue
		}
		fmt.Fprintf(w, "✗ %s: %s\n", r.Check.What, oneLine(r.Err.Error()))
		if !hinted && r.Check.Hint != "" {
			hinted = true
			fmt.Fprintf(w, "  hint: %s\n", r.Check.Hint)
		}
	}
	if Passed(rs) {
		fmt.Fprintf(w, "%s: all %d checks pass\n", e.ID, len(rs))
	} else {
		fmt.Fprintf(w, "%s: %d of %d checks pass\n", e.ID, pass, len(rs))
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
