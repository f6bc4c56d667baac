package main

import (
	"fmt"
	"os"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command/system"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
)

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
			if img, err := imageops.Inspect(c.root, ref); err == nil {
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
	if err := system.Inspect(os.Stdout, objs, *format); err != nil {
		return err
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
		system.PrintJSON(spec)
	}
	if failed {
		return cli.ExitCode(1)
	}
	return nil
}
