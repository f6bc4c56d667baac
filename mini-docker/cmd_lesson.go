package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"mini-docker/internal/cli"
	_ "mini-docker/internal/lessoncheck" // the lessons' exercises register themselves
	"mini-docker/internal/lessoncheck/exercise"
)

// cmdLesson is `mini-docker lesson list|check`: the workshop's exercises
// (lessons/exercises/) and a checker that looks at what the learner did.
func cmdLesson(c *ctx, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Print(lessonUsage)
		if len(args) == 0 {
			return cli.Usagef(tool+" lesson", "want a sub-command: list or check")
		}
		return nil
	}
	switch args[0] {
	case "list":
		return cmdLessonList(args[1:])
	case "check":
		return cmdLessonCheck(args[1:])
	}
	return cli.Usagef(tool+" lesson", "unknown sub-command %q (want list or check)", args[0])
}

const lessonUsage = `Usage: mini-docker lesson list | check [--dir DIR] [--explain] EXERCISE

The workshop's exercises (lessons/exercises/NN-*.md) and their checker.
check looks at the real system (cgroups, namespaces, mounts, links,
processes, files in your scratch folder) and prints ✓ or ✗ per condition,
with a hint at the first ✗. It never changes anything. It exits 0 when
every condition holds, and records the exercise as passed.

Progress is kept in $MINI_DOCKER_LESSON_STATE, else
~/.local/state/mini-docker/lessons.json.

Examples:
  mini-docker lesson list
  mini-docker lesson check 03.2
  mini-docker lesson check --explain 03.2
  mini-docker lesson check --dir /tmp/lesson-01 01.1
`

func cmdLessonList(args []string) error {
	f := newFlags("lesson list", "", "List the lessons' exercises and which you have passed.", "mini-docker lesson list")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() > 0 {
		return cli.Usagef(tool+" lesson list", "no arguments expected")
	}
	path, err := exercise.ProgressPath()
	if err != nil {
		return err
	}
	p, err := exercise.LoadProgress(path)
	if err != nil {
		return err
	}
	lesson, passed, all := "", 0, exercise.All()
	for _, e := range all {
		if l, _, _ := strings.Cut(e.ID, "."); l != lesson {
			lesson = l
			fmt.Printf("lesson %s (lessons/exercises/%s-*.md)\n", l, l)
		}
		mark := " "
		if _, ok := p.Passed[e.ID]; ok {
			mark, passed = "✓", passed+1
		}
		fmt.Printf("  %s %s %s\n", mark, e.ID, e.Title)
	}
	fmt.Printf("%d of %d exercises passed (progress: %s)\n", passed, len(all), path)
	return nil
}

func cmdLessonCheck(args []string) error {
	f := newFlags("lesson check", "[--dir DIR] [--explain] EXERCISE",
		"Check an exercise against the system as it is now: one ✓ or ✗ line per condition, a hint at the first ✗. Changes nothing. Exit 0 when all hold, 1 when one does not.",
		"mini-docker lesson check 03.2", "mini-docker lesson check --explain 01.1", "mini-docker lesson check --dir ~/scratch 04.1")
	dir := f.String("dir", "", "the scratch folder the exercise's files are in (default: the working directory)")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 1 {
		return cli.Usagef(tool+" lesson check", "want one exercise, like 03.2 (see 'mini-docker lesson list')")
	}
	e, err := exercise.Find(f.Arg(0))
	if err != nil {
		return cli.WithCode(err, 1)
	}
	if *dir == "" {
		if *dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	rs := e.Run(exercise.NewState(*dir), f.Explainer())
	exercise.Print(os.Stdout, e, rs)
	if !exercise.Passed(rs) {
		return cli.ExitCode(1)
	}
	if path, err := exercise.ProgressPath(); err == nil {
		if err := exercise.MarkPassed(path, e.ID, time.Now()); err != nil {
			fmt.Fprintf(os.Stderr, "mini-docker lesson: %v\n", err)
		}
	}
	return nil
}
