// Package formatter is the docker CLI's --format: a Go template applied
// to each listed object, or one of three keywords. "table" (alone, or
// before a template) lines the rows up in columns under a header row,
// "json" prints each object as one JSON line, anything else is the
// template itself, one line per object. `\t` and `\n` typed in the
// template are a tab and a newline.
//
// A row is a context: a struct whose methods are the fields a template
// names ({{.ID}}, {{.Names}}, {{.Label "com.example"}}). The header row
// is the same template run on a map from field to column title (a
// SubHeaderContext), so a table's columns are exactly the fields the
// template uses. The names follow the docker CLI's own
// (cli/command/formatter), so a template's error names the same type:
// `can't evaluate field Foo in type *formatter.ContainerContext`.
package formatter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"text/template"
)

// The keywords --format accepts besides a template.
const (
	TableFormatKey = "table"
	JSONFormatKey  = "json"
)

// Format is a --format value.
type Format string

// IsTable reports whether the output is a table with a header row.
func (f Format) IsTable() bool { return strings.HasPrefix(string(f), TableFormatKey) }

// IsJSON reports whether each row is printed as a JSON object.
func (f Format) IsJSON() bool { return string(f) == JSONFormatKey }

// Template returns the template text a format stands for: the part
// after "table", {{json .}} for "json", with `\t` and `\n` unescaped.
func (f Format) Template() string {
	s := string(f)
	switch {
	case f.IsTable():
		s = s[len(TableFormatKey):]
	case f.IsJSON():
		s = "{{json .}}"
	}
	s = strings.Trim(s, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}

// Pick is the format a list is printed with: {{.ID}} for -q, the
// command's table for "" or "table", else the one given.
func Pick(format string, quiet bool, table string) Format {
	switch {
	case quiet:
		return "{{.ID}}"
	case format == "" || format == TableFormatKey:
		return Format(table)
	}
	return Format(format)
}

// Funcs are the functions a --format template may call (the docker CLI's
// templates package): json, split, join, title, lower, upper, pad,
// truncate, println.
var Funcs = template.FuncMap{
	"json": func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return strings.TrimSpace(b.String())
	},
	"split": strings.Split,
	"join":  strings.Join,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"pad": func(s string, prefix, suffix int) string {
		if s == "" {
			return s
		}
		return strings.Repeat(" ", prefix) + s + strings.Repeat(" ", suffix)
	},
	"truncate": func(s string, n int) string {
		if len(s) < n {
			return s
		}
		return s[:n]
	},
	"println": fmt.Sprintln,
}

// headerFuncs stand in for Funcs while the header row is drawn: each
// returns its first argument, the column's title, unchanged.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"split":    func(v, _ string) string { return v },
	"join":     func(v, _ string) string { return v },
	"title":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"pad":      func(v string, _, _ int) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

// Parse parses a template with Funcs, named as the docker CLI names it
// (the empty name for lists, "version" for version).
func Parse(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(Funcs).Parse(text)
}

// SubHeaderContext maps each field to its column title.
type SubHeaderContext map[string]string

// Label is the title of a {{.Label "a.b-c"}} column: the key's last
// dotted part, with - and _ as spaces.
func (c SubHeaderContext) Label(name string) string {
	n := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(n[len(n)-1])
}

// ParseError is a template that does not parse; ExecError one that fails
// on a row (an unknown field). Each command words them as docker's does.
type (
	ParseError struct{ Err error }
	ExecError  struct{ Err error }
)

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ExecError) Error() string  { return e.Err.Error() }

// Write renders rows with format f on w: a table (tabwriter: minimum
// width 10, padding 3, as docker's), or one rendering per row.
func Write(w io.Writer, f Format, header SubHeaderContext, rows []any) error {
	tmpl, err := Parse("", f.Template())
	if err != nil {
		return &ParseError{err}
	}
	var body bytes.Buffer
	for _, r := range rows {
		if err := tmpl.Execute(&body, r); err != nil {
			return &ExecError{err}
		}
		body.WriteString("\n")
	}
	if !f.IsTable() {
		_, err := body.WriteTo(w)
		return err
	}
	t := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	var head bytes.Buffer
	tmpl.Funcs(headerFuncs).Execute(&head, header)
	head.WriteString("\n")
	head.WriteTo(t)
	body.WriteTo(t)
	return t.Flush()
}

// Check runs the template once on an empty row, as docker ps does before
// it lists anything, so an unknown field fails even when nothing is listed.
func Check(f Format, empty any) error {
	tmpl, err := Parse("", f.Template())
	if err != nil {
		return &ParseError{err}
	}
	if err := tmpl.Execute(io.Discard, empty); err != nil {
		return &ExecError{err}
	}
	return nil
}

// MarshalJSON renders a context as {{json .}} shows it: an object of
// every exported method that takes no argument and returns one value,
// keyed by the method's name.
func MarshalJSON(ctx any) ([]byte, error) {
	v := reflect.ValueOf(ctx)
	t := v.Type()
	m := map[string]any{}
	for i := 0; i < v.NumMethod(); i++ {
		meth := v.Method(i)
		name := t.Method(i).Name
		if name == "MarshalJSON" || meth.Type().NumIn() != 0 || meth.Type().NumOut() != 1 {
			continue
		}
		m[name] = meth.Call(nil)[0].Interface()
	}
	return json.Marshal(m)
}
