package cli

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func testDispatcher(got *[]string) *Dispatcher {
	return &Dispatcher{
		Tool: "tool", Summary: "Do things.",
		Commands: []Subcommand{
			{Name: "make", Usage: "make NAME", Summary: "Make a thing. More words.", Run: func(a []string) error { *got = a; return nil }},
		},
		Examples:   []string{"tool make box"},
		ValueFlags: []string{"mode"},
	}
}

func TestDispatcherRunsTheNamedCommand(t *testing.T) {
	var got []string
	d := testDispatcher(&got)
	if err := d.Run([]string{"--explain", "--mode", "v2", "--x=1", "make", "box"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"--explain", "--mode", "v2", "--x=1", "box"}; !slices.Equal(got, want) {
		t.Errorf("the command got %q, want %q (flags before it moved after its name)", got, want)
	}
}

func TestDispatcherUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"--explain"}, "no command given"},
		{[]string{"--mode"}, "--mode: give it after the command, or see 'tool --help'"},
		{[]string{"--other", "make"}, "--other: give it after the command"},
	} {
		var got []string
		err := testDispatcher(&got).Run(tc.args)
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitToolFailure || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want exit %d and %q", tc.args, err, ExitToolFailure, tc.want)
		}
	}
}

func TestDispatcherHelpListsCommandsAndExamples(t *testing.T) {
	var b bytes.Buffer
	var got []string
	testDispatcher(&got).Usage(&b)
	for _, want := range []string{"Usage: tool COMMAND", "  make NAME  Make a thing.\n", "Examples:\n  tool make box\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
}

// FuzzFlagsAfterCommand: whatever comes before the command, the
// dispatcher either refuses it or hands on every argument, the command's
// name first.
func FuzzFlagsAfterCommand(f *testing.F) {
	f.Add("--explain\x00--mode\x00v2\x00make\x00box")
	f.Add("--mode=v1\x00make")
	f.Add("--mode")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		var got []string
		out, err := testDispatcher(&got).flagsAfterCommand(args)
		if err != nil {
			return
		}
		if len(out) != len(args) || strings.HasPrefix(out[0], "--") {
			t.Fatalf("%q became %q", args, out)
		}
		a, b := slices.Clone(args), slices.Clone(out)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%q became %q", args, out)
		}
	})
}

// A tool whose first argument is usually its operand (pull IMAGE) runs
// Default with every argument unless the first names a command.
func TestDispatcherDefault(t *testing.T) {
	var got, def []string
	d := testDispatcher(&got)
	d.Default = func(a []string) error { def = a; return nil }
	if err := d.Run([]string{"-q", "busybox"}); err != nil || !slices.Equal(def, []string{"-q", "busybox"}) {
		t.Errorf("Default got %q, %v", def, err)
	}
	if err := d.Run([]string{"make", "box"}); err != nil || !slices.Equal(got, []string{"box"}) {
		t.Errorf("make got %q, %v", got, err)
	}
	called := false
	d.Default = func(a []string) error { called = len(a) == 0; return nil }
	if err := d.Run(nil); err != nil || !called {
		t.Errorf("no arguments: Default called %v, %v", called, err)
	}
}

// Actions gives each action a flag set named for it, with its own help,
// the flags parse defines for it, and the options parse read.
func TestActions(t *testing.T) {
	var ran string
	parse := func(name string, f *Flags, args []string) (*Flags, error) {
		if name == "make" {
			f.String("size", "", "how big")
		}
		return f, f.Parse(args)
	}
	run := func(f *Flags) error { ran = f.Name() + " " + strings.Join(f.Args(), ","); return nil }
	d := &Dispatcher{Tool: "tool", Commands: Actions("tool", []Action[*Flags]{
		{Name: "make", Usage: "make NAME [--size N]", Summary: "Make a thing.", Examples: []string{"tool make box"}, Run: run},
		{Name: "list", Usage: "list", Summary: "List things.", Run: run},
	}, parse)}
	if err := d.Run([]string{"make", "--size", "2", "box"}); err != nil || ran != "tool make box" {
		t.Errorf("make ran %q, %v", ran, err)
	}
	if err := d.Run([]string{"list", "--size", "2"}); CodeOf(err) != ExitToolFailure || !strings.Contains(err.Error(), "size") {
		t.Errorf("list --size: got %v, want a usage error (only make takes --size)", err)
	}
	ran = ""
	if err := d.Run([]string{"make", "--help"}); err != nil || ran != "" {
		t.Errorf("make --help: got %v and ran %q, want help alone", err, ran)
	}
}

// Verbs names each verb by its line's first word and makes its flag set
// from its help: "TOOL NAME" with the line's usage, unless it says
// otherwise. ParseAtLeast's error names the command too.
func TestVerbs(t *testing.T) {
	var got *Flags
	run := func(f *Flags, args []string) error { got = f; return f.ParseAtLeast(args, 1, "no NAME given") }
	d := &Dispatcher{Tool: "tool", Commands: Verbs("tool", []Verb{
		{Usage: "make NAME", Short: "make a thing", Run: run},
		{Usage: "list", Short: "list things", Run: run, Help: Command{Tool: "tool", Usage: "list [NAME]"}},
	})}
	if err := d.Run([]string{"make", "box"}); err != nil || got.Name() != "tool make" || got.cmd.Usage != "NAME" {
		t.Errorf("make: flag set %q usage %q, %v; want tool make, NAME", got.Name(), got.cmd.Usage, err)
	}
	err := d.Run([]string{"list"})
	if got.Name() != "tool" || got.cmd.Usage != "list [NAME]" {
		t.Errorf("list: flag set %q usage %q; want its own help's", got.Name(), got.cmd.Usage)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != ExitToolFailure || e.Err.Error() != "no NAME given" || e.Hint != "see 'tool list --help'" {
		t.Errorf("list with no argument: got %#v, want a usage error pointing at 'tool list --help'", err)
	}
}
