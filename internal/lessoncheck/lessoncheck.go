// Package lessoncheck checks the workshop's exercises
// (lessons/exercises/NN-*.md) against the real state of the system: the
// kernel objects, files and processes the learner left. `mini-docker
// lesson check 03.2` prints one line per condition, ✓ or ✗, with the next
// hint after the first ✗.
//
// A check only looks: it reads files under /proc, /sys and the scratch
// folder, asks netlink, and enters namespaces with setns(2) on a thread
// of its own that is thrown away afterwards. It never writes, mounts,
// creates or removes anything, so a learner can run it as often as they
// like; `make lessons` compares the mount table, cgroups, links and files
// before and after every check to hold it to that.
//
// It belongs to every lesson from 01 to 15: each lessonNN.go file holds
// that lesson's exercises, built from package probe's readers, and
// registers them with package exercise, which runs and prints them.
package lessoncheck

import "mini-docker/internal/lessoncheck/exercise"

// The exercise's frame, by the names the lessonNN.go files use.
type (
	Exercise = exercise.Exercise
	Check    = exercise.Check
	State    = exercise.State
)

func register(es ...*Exercise) { exercise.Register(es...) }
