package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// WriteOutput runs write on the file an -o FILE flag names, or on
// stdout when path is "" or "-". A file is written under a temporary
// name and renamed when complete, so nothing half written is left
// under FILE (save, export).
func WriteOutput(path string, write func(*os.File) error) error {
	if path == "" || path == "-" {
		return write(os.Stdout)
	}
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	if err := fh.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// IsTerminal reports whether f is a terminal (it answers TCGETS, as
// Docker's term.IsTerminal asks; /dev/null does not), where an archive
// must not be written and progress bars may be drawn.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
