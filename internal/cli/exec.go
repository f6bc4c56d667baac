package cli

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"time"
)

// LookPath finds argv0 the way execvp(3) does, in the current root and
// with the PATH of env (or the default PATH when env has none). It returns
// an *Error with code 127 when nothing is found, 126 when what is found
// cannot be executed.
func LookPath(argv0 string, env []string) (string, error) {
	if argv0 == "" {
		return "", Errorf(ExitNotFound, "no command given")
	}
	if strings.Contains(argv0, "/") {
		return argv0, checkExecutable(argv0)
	}
	path := DefaultPath
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[len("PATH="):]
		}
	}
	var denied string
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + argv0
		err := checkExecutable(p)
		if err == nil {
			return p, nil
		}
		if CodeOf(err) == ExitCannotExec && denied == "" {
			denied = p
		}
	}
	if denied != "" {
		return "", checkExecutable(denied)
	}
	return "", Errorf(ExitNotFound, "%s: executable file not found in $PATH", argv0)
}

// DefaultPath is the PATH Docker gives a container whose image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Errorf(ExitNotFound, "%s: no such file or directory", p)
		}
		return Errorf(ExitCannotExec, "%s: %v", p, errors.Unwrap(err))
	}
	if st.IsDir() {
		return Errorf(ExitCannotExec, "%s: is a directory", p)
	}
	if err := syscall.Access(p, 1 /* X_OK */); err != nil || st.Mode()&0o111 == 0 {
		return Errorf(ExitCannotExec, "%s: permission denied", p)
	}
	return nil
}

// Exec replaces the current process with argv, like execvp(3), and only
// returns on failure, with Docker's codes: 127 when the command does not
// exist, 126 when it exists but cannot be run.
func Exec(argv []string, env []string) error {
	if len(argv) == 0 {
		return Errorf(ExitToolFailure, "no command given")
	}
	p, err := LookPath(argv[0], env)
	if err != nil {
		return err
	}
	err = syscall.Exec(p, argv, env)
	// ETXTBSY: a process forked at the same moment elsewhere may still
	// hold a writable descriptor of the program (a sealed copy being
	// made), until its own exec closes it: ask again for a while.
	for i := 0; errors.Is(err, syscall.ETXTBSY) && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
		err = syscall.Exec(p, argv, env)
	}
	return ExecError(p, err)
}

// ExecError is the error, with its exit code, of an execve(2) of program
// p that failed with err: 127 for a missing interpreter, 126 for a file
// that cannot be executed, 125 otherwise.
func ExecError(p string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		// The file exists but its interpreter (ELF loader or #! line) does not.
		return Errorf(ExitNotFound, "exec %s: no such file or directory (is its interpreter or a shared library missing?)", p)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EPERM):
		return Errorf(ExitCannotExec, "exec %s: %v", p, err)
	}
	return Errorf(ExitToolFailure, "exec %s: %v", p, err)
}
