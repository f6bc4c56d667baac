// Command lesson-shell gives a learner a lesson's sandbox: the scratch
// folder, namespaces and variables `make lessons` runs the lesson in, as
// an interactive shell whose prompt says so. `sudo make shell LESSON=05`
// runs it.
//
//	lesson-shell [--bin DIR] [--registry-storage DIR] LESSON
//
// LESSON is a lesson's number (05) or file name prefix. It belongs to the
// workshop as a whole (lessons/README.md); the sandbox itself is
// internal/lessonrun's, shared with the runner.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"mini-docker/internal/cli"
	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

const tool = "lesson-shell"

func main() { cli.Main(tool, run) }

func run(args []string) error {
	f := pflag.NewFlagSet(tool, pflag.ContinueOnError)
	bin := f.String("bin", filepath.Join(testenv.RepoRoot(), "bin"), "the built tools, first on PATH")
	storage := f.String("registry-storage", "", "a registry storage folder to serve as $REGISTRY (make shell: the workshop mirror)")
	if err := f.Parse(args); err != nil {
		return cli.Usagef(tool, "%v", err)
	}
	if f.NArg() != 1 {
		return cli.Usagef(tool, "want one lesson: lesson-shell 05")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the lessons run as root (namespaces, mounts, cgroups): run sudo make shell LESSON=%s", f.Arg(0))
	}
	if _, err := os.Stat(filepath.Join(*bin, "mini-docker")); err != nil {
		return fmt.Errorf("the tools are not built in %s: run make first", *bin)
	}
	name := strings.TrimSuffix(f.Arg(0), ".md")
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "lessons", name+"*.md"))
	if len(files) != 1 {
		return fmt.Errorf("no single lesson lessons/%s*.md (found %d)", name, len(files))
	}
	l, err := lessonrun.ParseFile(files[0])
	if err != nil {
		return err
	}
	tar, err := testenv.EnsureDebianTar()
	if err != nil {
		return err
	}
	os.Setenv("DEBIAN_TAR", tar)
	return lessonrun.Shell(filepath.Base(files[0])[:2], l, lessonrun.Options{BinDir: *bin, RegistryStorage: *storage})
}
