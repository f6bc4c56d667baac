package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

// Listing is what a docker CLI ls command prints: a header and rows of
// columns, and which column -q prints alone (the ID or the name).
type Listing struct {
	Header []string
	Rows   [][]string
	Key    int
}

// Print writes the listing: with quiet, the Key column of each row (one
// a line, for xargs); otherwise the header and the rows lined up under
// it, each column at least 10 wide with 3 spaces between (the docker
// CLI's tabwriter settings).
func (l Listing) Print(w io.Writer, quiet bool) error {
	if quiet {
		for _, r := range l.Rows {
			if _, err := fmt.Fprintln(w, r[l.Key]); err != nil {
				return err
			}
		}
		return nil
	}
	t := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(t, strings.Join(l.Header, "\t"))
	for _, r := range l.Rows {
		fmt.Fprintln(t, strings.Join(r, "\t"))
	}
	return t.Flush()
}

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
