// Package system holds mini-docker's commands about the whole host and
// its objects (docker's cli/command/system): inspect's printing, info,
// version, system df and events, each with Docker's --format.
package system

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/formatter"
)

// Inspect prints objs as docker inspect does: an indented JSON array by
// default, the array on one line for --format json, or a template's
// result for each object. A template is run on the object as typed
// ({{.State.Pid}}), and when that fails on its JSON form, where the
// JSON's names are the fields ({{.Id}}) and a missing key is an error.
func Inspect(w io.Writer, objs []any, format string) error {
	switch format {
	case "":
		return printJSON(w, objs, "    ")
	case formatter.JSONFormatKey:
		return printJSON(w, objs, "")
	}
	tmpl, err := formatter.Parse("", format)
	if err != nil {
		return cli.Errorf(64, "template parsing error: %v", err)
	}
	for _, o := range objs {
		var out bytes.Buffer
		if err := tmpl.Execute(&out, o); err != nil {
			out.Reset()
			generic, err2 := asJSON(o)
			if err2 != nil {
				return err2
			}
			if err := tmpl.Option("missingkey=error").Execute(&out, generic); err != nil {
				return cli.Errorf(1, "template parsing error: %v", err)
			}
		}
		fmt.Fprintln(w, out.String())
	}
	return nil
}

// asJSON is o as encoding/json decodes its JSON: maps, lists, and
// numbers kept as written (33554432, not 3.3554432e+07).
func asJSON(o any) (any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	err = dec.Decode(&generic)
	return generic, err
}

// printJSON writes v as JSON without HTML escapes, indented by indent
// (one line when indent is empty).
func printJSON(w io.Writer, v []any, indent string) error {
	if v == nil {
		v = []any{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := b.WriteTo(w)
	return err
}

// PrintJSON writes v indented as docker inspect does, on stdout.
func PrintJSON(v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	enc.Encode(v)
	os.Stdout.Write(b.Bytes())
}
