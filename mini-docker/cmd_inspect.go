package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/engine"
)

// templateFuncs are the functions docker inspect --format offers.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSpace(b.String()), nil
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"println": fmt.Sprintln,
}

func cmdInspect(c *ctx, args []string) error {
	f := newFlags("inspect", "[-f FORMAT] NAME...", "Print Docker's JSON description of containers (or images), or the fields a Go template picks.",
		"mini-docker inspect demo", "mini-docker inspect --format '{{.State.Pid}}' demo", "mini-docker inspect -f '{{json .GraphDriver}}' demo",
		"mini-docker inspect --oci demo | jq .linux.namespaces", "mini-docker inspect --tree demo")
	format := f.StringP("format", "f", "", "format the output using the given Go template")
	typ := f.String("type", "", "return JSON for the given type: container or image")
	oci := f.Bool("oci", false, "print the container's OCI runtime spec, the config.json runc would read, made from its Config and HostConfig")
	tree := f.Bool("tree", false, "draw a running container's namespaces, cgroup, root mount and network, read live (cmd_inspect_tree.go)")
	e, err := open(c, f, args, "inspect", 1)
	if err != nil {
		return cli.Done(err)
	}
	if *oci {
		return inspectOCI(e, f.Args())
	}
	if *tree {
		return inspectTrees(e, f.Args())
	}
	var tmpl *template.Template
	if *format != "" {
		tmpl, err = template.New("").Funcs(templateFuncs).Parse(*format)
		if err != nil {
			return cli.Errorf(1, "template parsing error: %v", err)
		}
	}
	var objs []any
	failed := false
	for _, ref := range f.Args() {
		var obj any
		if *typ != "image" {
			if ct, err := e.Find(ref); err == nil {
				obj = ct
			}
		}
		if obj == nil && *typ != "container" {
			if img, err := inspectImage(c, e, ref); err == nil {
				obj = img
			}
		}
		if obj == nil {
			fmt.Fprintf(os.Stderr, "mini-docker: error: No such object: %s\n", ref)
			failed = true
			continue
		}
		objs = append(objs, obj)
	}
	if tmpl != nil {
		for _, o := range objs {
			// Templates see the same field names as the JSON: go through it.
			var generic any
			b, _ := json.Marshal(o)
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber() // print 33554432, not 3.3554432e+07
			dec.Decode(&generic)
			var out bytes.Buffer
			if err := tmpl.Execute(&out, generic); err != nil {
				return cli.Errorf(1, "template: %v", err)
			}
			fmt.Println(out.String())
		}
	} else {
		if objs == nil {
			objs = []any{}
		}
		printJSON(objs)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

// inspectOCI prints each container's OCI runtime spec.
func inspectOCI(e *engine.Engine, refs []string) error {
	failed := false
	for _, ref := range refs {
		ct, err := e.Find(ref)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mini-docker: error: No such container: %s\n", ref)
			failed = true
			continue
		}
		spec, err := e.OCISpec(ct)
		if err != nil {
			return err
		}
		printJSON(spec)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}

// printJSON prints v indented as docker inspect does, without HTML escapes.
func printJSON(v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	enc.Encode(v)
	os.Stdout.Write(b.Bytes())
}
