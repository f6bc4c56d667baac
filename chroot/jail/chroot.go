package jail

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
)

// Chroot is the classic chroot(8): chroot(2) into root, chdir("/"), exec
// argv. It only changes where path lookups start. The process keeps the
// host's mounts, processes and network, and a root process can leave the
// jail again (see lessons/cmd/escape): chroot is not a security boundary.
func Chroot(root string, argv, env []string, ex *explain.Printer) error {
	abs, err := checkRoot(root)
	if err != nil {
		return err
	}
	ex.Argv(append([]string{"chroot", abs}, argv...)...)
	if err := unix.Chroot(abs); err != nil {
		err = fmt.Errorf("chroot %s: %w", abs, err)
		if errors.Is(err, unix.EPERM) {
			return cli.WithHint(err, "chroot(2) needs CAP_SYS_CHROOT: run it as root (sudo)")
		}
		return err
	}
	// chroot(2) does not move the working directory: without this chdir the
	// process would still stand outside its new root.
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in %s: %w", abs, err)
	}
	return execInRoot(abs, argv, env, ex)
}

// execInRoot execs argv once the root has changed, turning a failure
// into Docker's exit codes with a message that names the path on the
// host and how to fix it.
func execInRoot(root string, argv, env []string, ex *explain.Printer) error {
	ex.Argv(append([]string{"exec"}, argv...)...)
	err := cli.Exec(argv, env)
	if cli.CodeOf(err) != cli.ExitNotFound || len(argv) == 0 {
		return err
	}
	hint := fmt.Sprintf("copy it and the libraries it needs into the root: chroot prepare %s %s",
		root, argv[0])
	p := argv[0]
	if !strings.Contains(p, "/") {
		return cli.WithHint(cli.Errorf(cli.ExitNotFound,
			"%s: command not found in the PATH inside %s", p, root), hint)
	}
	if _, serr := os.Stat(p); serr != nil {
		return cli.WithHint(cli.Errorf(cli.ExitNotFound,
			"%s: no such file inside %s (looked for %s)", p, root, filepath.Join(root, p)), hint)
	}
	// The file is there, yet execve said ENOENT: its ELF interpreter (the
	// dynamic loader) is missing inside the root.
	if interp := elfInterpreter(p); interp != "" {
		if _, serr := os.Stat(interp); serr != nil {
			return cli.WithHint(cli.Errorf(cli.ExitNotFound,
				"%s: its dynamic loader %s is missing inside %s (looked for %s)",
				p, interp, root, filepath.Join(root, interp)), hint)
		}
	}
	return cli.WithHint(err, hint)
}

// elfInterpreter returns the PT_INTERP of an ELF file, or "".
func elfInterpreter(p string) string {
	f, err := elf.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	interp, _ := interpreter(f)
	return interp
}
