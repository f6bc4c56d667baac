// Package command holds what every mini-docker command shares: its flag
// set (Docker's names, interspersed flags), the engine opened on the
// state root, and Docker's exit code for a name that is not found. The
// commands live in the sub-packages by the docker CLI's grouping
// (container, image, system); mini-docker's main package only registers
// them.
package command

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"text/template"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/formatter"
)

// Spec is one command as data: its name after "mini-docker", what its
// --help prints, and how many arguments it takes. Each command declares
// its Spec once, beside its function; Flags builds the flag set from it
// and Parse or Open check the arguments against it.
type Spec struct {
	Name     string // "logs", "system df"
	Usage    string // the synopsis after the name: "[OPTIONS] CONTAINER"
	Summary  string
	Examples []string
	// MinArgs: fewer arguments are docker's "requires at least N
	// argument" (exit 125).
	MinArgs int
	// MaxArgs, when not 0: more are docker's "requires exactly N
	// argument(s)" when MinArgs is the same, else "requires at most N
	// argument(s)" (exit 125).
	MaxArgs int
}

// Flags is the command's flag set (NewFlags).
func (s *Spec) Flags() *cli.Flags {
	return NewFlags(s.Name, s.Usage, s.Summary, s.Examples...)
}

// Parse parses the command's flags and checks the number of arguments.
// Callers return cli.Done(err), which is nil after --help.
func (s *Spec) Parse(f *cli.Flags, args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if err := NeedArgs(f, s.Name, s.MinArgs); err != nil {
		return err
	}
	if s.MaxArgs == 0 || f.NArg() <= s.MaxArgs {
		return nil
	}
	bound, noun := "at most", "argument"
	if s.MinArgs == s.MaxArgs {
		bound = "exactly"
	}
	if s.MaxArgs > 1 {
		noun += "s"
	}
	return cli.Usagef("mini-docker "+s.Name, "\"mini-docker %s\" requires %s %d %s", s.Name, bound, s.MaxArgs, noun)
}

// Open parses the flags and checks the arguments (Parse), then opens
// the engine (OpenEngine).
func (s *Spec) Open(root string, f *cli.Flags, args []string) (*engine.Engine, error) {
	if err := s.Parse(f, args); err != nil {
		return nil, err
	}
	return OpenEngine(root, f)
}

// StateRoot is the state root: flag (--root) when set, else
// $MINI_DOCKER_ROOT, else /var/lib/mini-docker.
func StateRoot(flag string) string {
	if flag != "" {
		return flag
	}
	if r := os.Getenv("MINI_DOCKER_ROOT"); r != "" {
		return r
	}
	return "/var/lib/mini-docker"
}

// Main runs d as the top level of a program that mini-docker runs some of
// its commands in (mini-docker-build, mini-docker-serve): mini-docker
// NAME ARGS execs PROGRAM NAME ARGS, with the state root in
// $MINI_DOCKER_ROOT. A command's errors read as mini-docker's own, since
// the user typed mini-docker NAME.
func Main(d *cli.Dispatcher) {
	tool := d.Tool
	if len(os.Args) > 1 && slices.ContainsFunc(d.Commands, func(c cli.Subcommand) bool { return c.Name == os.Args[1] }) {
		tool = "mini-docker"
	}
	cli.Main(tool, d.Run)
}

// NewFlags is a command's flag set: "mini-docker NAME", flags anywhere
// among the arguments, as docker's.
func NewFlags(name, usage, summary string, examples ...string) *cli.Flags {
	return cli.NewFlags(cli.Command{Tool: "mini-docker " + name, Usage: usage, Summary: summary, Examples: examples, Interspersed: true})
}

// OpenEngine opens the engine on the state root, explaining when asked.
func OpenEngine(root string, f *cli.Flags) (*engine.Engine, error) {
	e, err := engine.NewEngine(root)
	if err != nil {
		return nil, err
	}
	e.Explain = f.Explainer()
	return e, nil
}

// Open parses a command's flags, checks it got at least n arguments and
// opens the engine, for a command that declares no Spec (Spec.Open).
func Open(root string, f *cli.Flags, args []string, name string, n int) (*engine.Engine, error) {
	return (&Spec{Name: name, MinArgs: n}).Open(root, f, args)
}

// Parse parses a command's flags and checks it got at least n
// arguments, for a command that declares no Spec (Spec.Parse).
func Parse(f *cli.Flags, args []string, name string, n int) error {
	return (&Spec{Name: name, MinArgs: n}).Parse(f, args)
}

// OpenContainer opens the engine (OpenEngine) and finds container ref
// in it (Find).
func OpenContainer(root string, f *cli.Flags, ref string) (*engine.Engine, *container.Container, error) {
	e, err := OpenEngine(root, f)
	if err != nil {
		return nil, nil, err
	}
	ct, err := Find(e, ref)
	if err != nil {
		return nil, nil, err
	}
	return e, ct, nil
}

// NeedArgs refuses fewer than n arguments with docker's words (exit 125).
func NeedArgs(f *cli.Flags, name string, n int) error {
	if f.NArg() < n {
		return cli.Usagef("mini-docker "+name, "\"mini-docker %s\" requires at least %d argument", name, n)
	}
	return nil
}

// NotFound gives Docker's exit code (1) to a lookup failure.
func NotFound(err error) error { return cli.WithCode(err, 1) }

// Find resolves a container by name or ID prefix; one that is not there
// is Docker's exit code 1 (NotFound).
func Find(e *engine.Engine, ref string) (*container.Container, error) {
	ct, err := e.Find(ref)
	if err != nil {
		return nil, NotFound(err)
	}
	return ct, nil
}

// TemplateError words a --format failure as the docker CLI's command
// does (parse and exec are each prefixed by the command's own words),
// with docker's exit code 1.
func TemplateError(err error, parse, exec string) error {
	var pe *formatter.ParseError
	var xe *formatter.ExecError
	switch {
	case errors.As(err, &pe):
		return cli.Errorf(1, "%s: %v", parse, pe.Err)
	case errors.As(err, &xe):
		return cli.Errorf(1, "%s: %v", exec, xe.Err)
	}
	return err
}

// Template parses the --format of a command that prints one object
// (info, version, events' events): "json" is the object as JSON, else a
// Go template named name; a bad one is docker's "template parsing
// error" (exit 1). Execute runs it.
func Template(name, format string) (*template.Template, error) {
	if format == formatter.JSONFormatKey {
		format = "{{json .}}"
	}
	tmpl, err := formatter.Parse(name, format)
	if err != nil {
		return nil, cli.Errorf(1, "template parsing error: %v", err)
	}
	return tmpl, nil
}

// Execute runs a single-object template (info, version, inspect) and
// prints its result and a newline; a failure is returned as docker
// words it, prefix first (exit 1).
func Execute(tmpl *template.Template, v any, prefix string) error {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		if prefix != "" {
			return cli.Errorf(1, "%s: %v", prefix, err)
		}
		return cli.WithCode(err, 1)
	}
	fmt.Println(b.String())
	return nil
}

// FormatFlag defines a list's --format flag, with docker's help.
func FormatFlag(f *cli.Flags) *string {
	return f.String("format", "", "format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template")
}

// FilterFlag defines a list's --filter (-f) flag, its help naming the
// conditions the command knows (keys), as docker's.
func FilterFlag(f *cli.Flags, keys string) *[]string {
	return f.StringArrayP("filter", "f", nil, "filter output based on conditions provided ("+keys+")")
}

// ParseFilters parses a list's flags and checks its arguments (Parse),
// then reads its --filter values as docker does; a malformed one is a
// usage error (exit 125). Callers return cli.Done(err).
func (s *Spec) ParseFilters(f *cli.Flags, args []string, values *[]string) (filters.Args, error) {
	if err := s.Parse(f, args); err != nil {
		return nil, err
	}
	a, err := filters.Parse(*values)
	if err != nil {
		return nil, cli.Usagef("mini-docker "+s.Name, "%v", err)
	}
	return a, nil
}

// ImageUsers lists the containers (any state) made from image imageID.
func ImageUsers(e *engine.Engine, imageID string) []*container.Container {
	cs, _ := e.List()
	var out []*container.Container
	for _, ct := range cs {
		if ct.Image == imageID {
			out = append(out, ct)
		}
	}
	return out
}

// ParseOutput parses the command line of export or save: -o FILE (""
// for stdout, which must not be a terminal) and at least one operand.
func ParseOutput(f *cli.Flags, cmd string, args []string) (string, error) {
	out := f.StringP("output", "o", "", "write to FILE instead of stdout")
	if err := Parse(f, args, cmd, 1); err != nil {
		return "", err
	}
	if *out == "" && cli.IsTerminal(os.Stdout) {
		return "", cli.Usagef("mini-docker "+cmd, "cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	return *out, nil
}
