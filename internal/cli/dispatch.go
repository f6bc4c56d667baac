package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Subcommand is one COMMAND of a tool that has several, as in
// `cgroupctl create t1`.
type Subcommand struct {
	Name    string
	Usage   string // its line in the tool's help: "create NAME [limits]"
	Summary string // what it does; the first sentence goes in the help
	Run     func(args []string) error
}

// Dispatcher is the top level of a tool with sub-commands, as git and ip
// have: `TOOL --help` lists the commands with examples, `TOOL --version`
// prints the version, and `TOOL COMMAND ARGS` runs the command.
type Dispatcher struct {
	Tool     string
	Summary  string // what the tool does, under the usage line
	Commands []Subcommand
	Notes    string // after the list: what every command takes, units
	Examples []string
	// ValueFlags are the flags with a value that every command takes and
	// that may also come before the command (`cgroupctl --mode v2 list`).
	// They, --explain and any --flag=value move after the command's name.
	ValueFlags []string
	// Default, when set, runs when the first argument names no command,
	// with all of them (pull's `pull IMAGE`, as docker pull): its own
	// flags then answer --help and --version.
	Default func(args []string) error
}

// Run runs the command args names. No command or an unknown one is a
// usage error: one line, exit 125.
func (d *Dispatcher) Run(args []string) error {
	if d.Default != nil && (len(args) == 0 || !slices.ContainsFunc(d.Commands, func(c Subcommand) bool { return c.Name == args[0] })) {
		return d.Default(args)
	}
	if len(args) == 0 {
		d.Usage(os.Stderr)
		return Usagef(d.Tool, "no command given")
	}
	switch args[0] {
	case "-h", "--help", "help":
		d.Usage(os.Stdout)
		return nil
	case "--version", "version":
		fmt.Printf("%s version %s\n", d.Tool, Version)
		return nil
	}
	args, err := d.flagsAfterCommand(args)
	if err != nil {
		return err
	}
	for _, c := range d.Commands {
		if c.Name == args[0] {
			return c.Run(args[1:])
		}
	}
	return Usagef(d.Tool, "unknown command %q", args[0])
}

// flagsAfterCommand moves the flags given before the command's name
// after it, where the command's own flag set reads them.
func (d *Dispatcher) flagsAfterCommand(args []string) ([]string, error) {
	var pre []string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		name, _, hasValue := strings.Cut(args[0], "=")
		switch {
		case name == "--explain" || hasValue:
			pre, args = append(pre, args[0]), args[1:]
		case d.takesValue(name) && len(args) > 1:
			pre, args = append(pre, args[0], args[1]), args[2:]
		default:
			return nil, Usagef(d.Tool, "%s: give it after the command, or see '%s --help'", args[0], d.Tool)
		}
	}
	if len(args) == 0 {
		return nil, Usagef(d.Tool, "no command given")
	}
	return append(append([]string{args[0]}, pre...), args[1:]...), nil
}

func (d *Dispatcher) takesValue(flag string) bool {
	for _, v := range d.ValueFlags {
		if "--"+v == flag {
			return true
		}
	}
	return false
}

// Usage prints the tool's help: the commands, the notes, the examples.
func (d *Dispatcher) Usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s COMMAND [options]\n\n%s\n\nCommands:\n", d.Tool, d.Summary)
	width := 0
	for _, c := range d.Commands {
		width = max(width, len(c.Usage))
	}
	for _, c := range d.Commands {
		if width > 46 { // too wide for one column: the summary goes below
			fmt.Fprintf(w, "  %s\n      %s\n", c.Usage, FirstSentence(c.Summary))
		} else {
			fmt.Fprintf(w, "  %-*s  %s\n", width, c.Usage, FirstSentence(c.Summary))
		}
	}
	if d.Notes != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(d.Notes))
	}
	if len(d.Examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n  %s\n", strings.Join(d.Examples, "\n  "))
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's options and examples.\n", d.Tool)
}

// FirstSentence returns s up to its first full stop followed by a space.
func FirstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// Action is one sub-command of a tool whose sub-commands all read their
// flags into one options type T, as cgroupctl's and overlay's do: its
// line in the tool's help, its own help, and what it runs.
type Action[T any] struct {
	Name     string
	Usage    string // "create NAME [limits]": its line in the tool's help, and (without the name) in its own
	Summary  string
	Examples []string
	Run      func(T) error
}

// Actions turns actions into a Dispatcher's sub-commands. Each one makes
// its flag set ("TOOL NAME", with the action's usage, summary and
// examples), lets parse define the flags that action takes and parse
// args into a T, then runs the action with it.
func Actions[T any](tool string, actions []Action[T], parse func(name string, f *Flags, args []string) (T, error)) []Subcommand {
	var cmds []Subcommand
	for _, a := range actions {
		cmds = append(cmds, Subcommand{Name: a.Name, Usage: a.Usage, Summary: a.Summary, Run: func(args []string) error {
			f := NewFlags(Command{Tool: tool + " " + a.Name, Usage: strings.TrimPrefix(a.Usage, a.Name+" "), Summary: a.Summary, Examples: a.Examples})
			opts, err := parse(a.Name, f, args)
			if err != nil {
				return Done(err)
			}
			return a.Run(opts)
		}})
	}
	return cmds
}

// Verb is one sub-command of a tool whose sub-commands each define their
// own flags, as capctl's and seccompctl's do: declared once, its line in
// the tool's help beside its own help.
type Verb struct {
	Usage string // its line in the tool's help, "show [PID]"; the first word is its name
	Short string // its summary on that line
	// Help is its own --help. Help.Tool is "TOOL NAME" when empty, and
	// Help.Usage the line's Usage without the name.
	Help Command
	// Run defines the verb's flags on f, made from Help, and parses args.
	Run func(f *Flags, args []string) error
}

// Verbs turns verbs into a Dispatcher's sub-commands.
func Verbs(tool string, verbs []Verb) []Subcommand {
	var cmds []Subcommand
	for _, v := range verbs {
		name, _, _ := strings.Cut(v.Usage, " ")
		help := v.Help
		if help.Tool == "" {
			help.Tool = tool + " " + name
		}
		if help.Usage == "" {
			help.Usage = strings.TrimSpace(strings.TrimPrefix(v.Usage, name))
		}
		cmds = append(cmds, Subcommand{Name: name, Usage: v.Usage, Summary: v.Short, Run: func(args []string) error {
			return v.Run(NewFlags(help), args)
		}})
	}
	return cmds
}
