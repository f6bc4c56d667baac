// Package cli holds the conventions every command of the toolkit follows:
// flags, help with examples, --explain, --version, one-line errors with a
// hint, and Docker's exit codes.
//
// Exit codes (docker run's):
//
//	the command's own code  when a command was run and exited
//	125                     the tool itself failed (bad flag, kernel refused, ...)
//	126                     the command was found but could not be executed
//	127                     the command was not found
//	128+N                   the command was killed by signal N
//
// Libraries never print or exit: they return errors wrapped with what was
// being done. Only main() turns an error into a message and an exit code,
// through Main.
//
// It belongs to no one lesson: every tool of every lesson uses it.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"mini-docker/internal/explain"
)

// Version is the toolkit's version, set at build time with
// -ldflags "-X mini-docker/internal/cli.Version=...".
var Version = "dev"

// Docker's exit codes for failures of the tool itself.
const (
	ExitToolFailure = 125
	ExitCannotExec  = 126
	ExitNotFound    = 127
)

// Error is an error with the exit code the tool should end with and an
// optional hint line telling the user how to fix it.
type Error struct {
	Code int
	Hint string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given exit code.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// WithHint attaches a hint to err (keeping any exit code it carries).
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: CodeOf(err), Hint: hint, Err: err}
}

// WithCode attaches an exit code to err (keeping any hint it carries).
func WithCode(err error, code int) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Hint: hintOf(err), Err: err}
}

// ExitCode is returned by a command that ran a child whose exit status
// must become the tool's own, with nothing printed.
type ExitCode int

func (c ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// CodeOf returns the exit code err asks for: 0 for nil, the code of an
// *Error or ExitCode, the translated status of an *exec.ExitError, 125
// otherwise.
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	var c ExitCode
	if errors.As(err, &c) {
		return int(c)
	}
	var e *Error
	if errors.As(err, &e) && e.Code != 0 {
		return e.Code
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		return WaitStatusCode(x.Sys().(syscall.WaitStatus))
	}
	return ExitToolFailure
}

// WaitStatusCode turns a wait status into a shell-style exit code:
// the exit status, or 128+N for a process killed by signal N.
func WaitStatusCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// ChildExit is the error for a tool that ran another (mini-docker pull
// runs pull) and saw it fail: its exit code, the child having said why;
// or, when a signal ended it before it could, 128+N and one line that
// says so.
func ChildExit(name string, err error) error {
	var x *exec.ExitError
	if !errors.As(err, &x) {
		return err
	}
	if ws, ok := x.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Errorf(WaitStatusCode(ws), "%s ended by signal %d (%v)", name, ws.Signal(), ws.Signal())
	}
	return ExitCode(x.ExitCode())
}

func hintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// defaultHint knows the fixes for failures every tool meets.
func defaultHint(err error) string {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		if os.Geteuid() != 0 {
			return "this needs root: run it with sudo"
		}
	}
	return ""
}

// Report prints err the toolkit's way, "TOOL: error: ...", with a hint
// line when one is known, and returns the exit code to end with.
func Report(w io.Writer, tool string, err error) int {
	code := CodeOf(err)
	var c ExitCode
	if errors.As(err, &c) {
		return code
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(w, "%s: error: %s\n", tool, msg)
	hint := hintOf(err)
	if hint == "" {
		hint = defaultHint(err)
	}
	if hint != "" {
		fmt.Fprintf(w, "%s: hint: %s\n", tool, hint)
	}
	return code
}

// Main runs a command's body and exits the way the conventions say.
func Main(tool string, run func(args []string) error) {
	err := run(os.Args[1:])
	if err == nil {
		os.Exit(0)
	}
	os.Exit(Report(os.Stderr, tool, err))
}

// Command describes one command (or sub-command) for its help text.
type Command struct {
	Tool     string // "cgroupctl"
	Usage    string // "create NAME [limits]"
	Summary  string // one sentence: what it does
	Examples []string
	Explain  bool // whether the command takes --explain (default true via NewFlags)
	// Interspersed lets flags come after the positional arguments, as
	// with ip(8); by default parsing stops at the first of them.
	Interspersed bool
}

// Flags is a pflag.FlagSet with the toolkit's standard flags.
type Flags struct {
	*pflag.FlagSet
	cmd         Command
	explainFlag bool
	help        bool
	version     bool
}

// NewFlags returns a flag set for cmd with --explain, --help and
// --version already defined. Parsing stops at the first non-flag
// argument, so `tool [flags] -- CMD ARGS` and `tool [flags] CMD ARGS`
// both leave CMD's own flags alone.
func NewFlags(cmd Command) *Flags {
	f := &Flags{FlagSet: pflag.NewFlagSet(cmd.Tool, pflag.ContinueOnError), cmd: cmd}
	f.SetInterspersed(cmd.Interspersed)
	f.SetOutput(io.Discard)
	f.BoolVar(&f.explainFlag, "explain", false, "print each kernel-level step as a shell command (to stderr) before doing it")
	f.BoolVarP(&f.help, "help", "h", false, "show this help")
	f.BoolVar(&f.version, "version", false, "print the version")
	return f
}

// ErrHelp is returned by Parse when --help or --version was answered:
// the caller should return nil.
var ErrHelp = errors.New("help shown")

// Parse parses args. It prints help or the version and returns ErrHelp
// when asked; a bad flag gives an *Error with code 125 and a hint.
func (f *Flags) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return &Error{Code: ExitToolFailure, Err: err, Hint: fmt.Sprintf("see '%s --help'", f.command())}
	}
	if f.help {
		f.PrintHelp(os.Stdout)
		return ErrHelp
	}
	if f.version {
		fmt.Fprintf(os.Stdout, "%s version %s\n", f.cmd.Tool, Version)
		return ErrHelp
	}
	return nil
}

// ParseAtLeast parses args (Parse) and wants at least n arguments left:
// fewer is a usage error (exit 125) saying missing.
func (f *Flags) ParseAtLeast(args []string, n int, missing string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() < n {
		return Usagef(f.command(), "%s", missing)
	}
	return nil
}

// command is the command as typed: "capctl show", or "vethctl create"
// where the tool's name is the Tool and the command's the Usage's first
// word.
func (f *Flags) command() string {
	return strings.TrimSpace(f.cmd.Tool + " " + firstWord(f.cmd.Usage))
}

func firstWord(s string) string {
	w := strings.Fields(s)
	if len(w) == 0 || strings.HasPrefix(w[0], "[") || strings.ToUpper(w[0]) == w[0] {
		return ""
	}
	return w[0]
}

// PrintHelp writes the usage line, summary, flags and examples.
func (f *Flags) PrintHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s\n\n", f.cmd.Tool, f.cmd.Usage)
	if f.cmd.Summary != "" {
		fmt.Fprintf(w, "%s\n\n", f.cmd.Summary)
	}
	fmt.Fprintf(w, "Options:\n%s", f.FlagUsages())
	if len(f.cmd.Examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range f.cmd.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// Explainer returns the explain printer the --explain flag asks for:
// stderr when set, nil (silent) otherwise.
func (f *Flags) Explainer() *explain.Printer {
	if f.explainFlag {
		return explain.New(os.Stderr)
	}
	return nil
}

// Explaining reports whether --explain was given.
func (f *Flags) Explaining() bool { return f.explainFlag }

// Done turns the result of Parse into what a command returns: nil after
// help, the error otherwise. Use as `if err := f.Parse(args); err != nil
// { return cli.Done(err) }`.
func Done(err error) error {
	if errors.Is(err, ErrHelp) {
		return nil
	}
	return err
}

// Usagef returns a usage error (exit 125) with a pointer to --help.
func Usagef(tool, format string, args ...any) error {
	return &Error{Code: ExitToolFailure, Err: fmt.Errorf(format, args...),
		Hint: fmt.Sprintf("see '%s --help'", tool)}
}

// StateRoot is where the tools keep their state when no --root is
// given: $MINI_DOCKER_ROOT, else /var/lib/mini-docker (Docker's
// /var/lib/docker).
func StateRoot() string {
	if r := os.Getenv("MINI_DOCKER_ROOT"); r != "" {
		return r
	}
	return "/var/lib/mini-docker"
}

// StateRootVar defines --root, the state root the tools share (default
// StateRoot()), storing its value in p.
func (f *Flags) StateRootVar(p *string) {
	f.StringVar(p, "root", StateRoot(), "state root (env MINI_DOCKER_ROOT)")
}
