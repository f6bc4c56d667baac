// Package explain prints the kernel-level steps a tool takes as the
// shell commands a learner could type instead, prefixed "+ " like `sh -x`.
//
// Every tool of the toolkit takes --explain. The libraries under each
// tool's folder receive a *Printer and call Cmd just before they make the
// system call the command stands for, so the printed script and the work
// done never drift apart. A nil *Printer prints nothing, so library code
// never has to check whether explaining is on.
//
// It belongs to no one lesson: every tool of every lesson prints its steps with it.
package explain

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Printer writes explained steps to a writer (stderr in the tools).
type Printer struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Printer writing to w. A nil w gives a nil Printer, which
// prints nothing.
func New(w io.Writer) *Printer {
	if w == nil {
		return nil
	}
	return &Printer{w: w}
}

// Enabled reports whether p prints anything.
func (p *Printer) Enabled() bool { return p != nil }

// Cmd prints one step: a shell command line, formatted like fmt.Sprintf.
func (p *Printer) Cmd(format string, args ...any) { p.line("+ ", format, args) }

// Argv prints one step given as an argument vector, quoting each word
// for the shell where it needs it.
func (p *Printer) Argv(argv ...string) {
	if p == nil {
		return
	}
	p.Cmd("%s", Join(argv...))
}

// Note prints a comment line ("# ...") that explains why the next step is
// needed. Use it sparingly: the commands are the lesson.
// A newline in what it says (a name) starts another comment line, never
// a line of commands.
func (p *Printer) Note(format string, args ...any) {
	p.line("# ", "%s", []any{strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\n# ")})
}

// line prints one line, prefix first, whole: lines of steps run on
// several threads do not interleave.
func (p *Printer) line(prefix, format string, args []any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s%s\n", prefix, fmt.Sprintf(format, args...))
}

// File prints the command that writes content, a text file, to path:
// printf '%s\n' with one quoted word per line.
func (p *Printer) File(path string, content []byte) {
	if p == nil {
		return
	}
	lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
	p.Cmd("printf '%%s\\n' %s > %s", Join(lines...), Quote(path))
}

// Join quotes each word for a POSIX shell and joins them with spaces.
func Join(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Quote returns s quoted for a POSIX shell, or s itself when it is made
// only of characters the shell leaves alone.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_./:=,+@%^", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
