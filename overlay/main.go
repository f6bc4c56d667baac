// Command overlay builds a container's layered, copy-on-write root
// filesystem with the kernel's overlay filesystem (lesson 04).
//
//	overlay mount --lower l2:l1 --upper u --work w merged
//	overlay diff merged
//	overlay markers u
//	overlay inspect merged
//	overlay umount merged
//
// Lower layers are listed top-first, as the kernel's lowerdir option
// lists them. The logic lives in overlay/overlayfs, which mini-docker uses.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/overlay/overlayfs"
)

const tool = "overlay"

func main() { cli.Main(tool, run) }

func run(args []string) error { return withHint(commands.Run(args)) }

type cmd struct {
	*cli.Flags
	lower    []string
	upper    string
	work     string
	readonly bool
	volatile bool
	method   string
	links    string
	root     string
}

// commands is overlay's top level: its sub-commands, each with the flags
// parse gives it, and its help.
var commands = cli.Dispatcher{
	Tool:    tool,
	Summary: "Build a container's layered, copy-on-write root filesystem with the kernel's overlay filesystem.",
	Notes: `Lower layers are listed TOP-FIRST (the kernel's lowerdir order): in
--lower l2:l1, l2 hides what l1 holds at the same path.
Every command takes --explain (print each kernel step as a shell command).`,
	Examples: []string{
		"overlay mount --lower l2:l1 --upper u --work w merged",
		"overlay diff merged",
		"overlay inspect merged",
		"overlay umount merged",
	},
	Commands: cli.Actions(tool, []cli.Action[*cmd]{
		{Name: "mount", Usage: "mount [--readonly] --lower DIR[:DIR...] [--upper DIR --work DIR] MERGED", Summary: "Mount an overlay on MERGED. --lower lists the read-only layers TOP-FIRST, as the kernel's lowerdir does: the first one hides the others (an image's layers, which are stored base-first, go in reverse). Writes land in --upper; --work is the kernel's scratch folder, empty, on the same mount as --upper. --readonly mounts the lower layers alone (at least two). Up to 500 layers: the new mount API (fsconfig, one call per layer) where the kernel has it, else mount(2) with short links in --links when the option string would pass one page.",
			Examples: []string{"overlay mount --lower image/l2:image/l1 --upper c1/upper --work c1/work c1/merged",
				"overlay mount --readonly --lower l2:l1 merged",
				"overlay --explain mount --method mount --lower l2:l1 --upper u --work w merged"}, Run: runMount},
		{Name: "umount", Usage: "umount MERGED", Summary: "Unmount the overlay on MERGED. A mount still used by a process (its working directory or an open file) is refused, and the error says so.",
			Examples: []string{"overlay umount c1/merged"}, Run: runUmount},
		{Name: "diff", Usage: "diff [--lower DIR[:DIR...]] UPPER|MERGED", Summary: "Show what a container changed, as docker diff does: A added, C changed, D deleted, sorted by path. Given a mounted MERGED dir, or an UPPER dir in use by a mounted overlay, the lower layers are found in the mount table; otherwise give them with --lower (top-first).",
			Examples: []string{"overlay diff c1/merged", "overlay diff --lower image/l2:image/l1 c1/upper"}, Run: runDiff},
		{Name: "markers", Usage: "markers UPPER", Summary: "List the whiteouts (character devices 0/0) and opaque directories (xattr trusted.overlay.opaque=y) of an upper layer, with the name each takes in an OCI image layer (.wh.NAME, .wh..wh..opq).",
			Examples: []string{"overlay markers c1/upper"}, Run: runMarkers},
		{Name: "inspect", Usage: "inspect MERGED", Summary: "Show the layers of the overlay mounted on MERGED, read back from /proc/self/mountinfo, as docker inspect's GraphDriver block shows them.",
			Examples: []string{"overlay inspect c1/merged", "overlay inspect c1/merged | jq -r .GraphDriver.Data.UpperDir"}, Run: runInspect},
	}, parse),
}

// parse defines the flags command name takes on f and reads them from
// args.
func parse(name string, f *cli.Flags, args []string) (*cmd, error) {
	x := &cmd{Flags: f}
	x.SetInterspersed(true)
	switch name {
	case "mount":
		x.StringArrayVar(&x.lower, "lower", nil, "read-only layers, TOP-FIRST, separated by ':' (the flag may repeat; later ones go below)")
		x.StringVar(&x.upper, "upper", "", "writable layer: the container's changes land here")
		x.StringVar(&x.work, "work", "", "the kernel's scratch folder: empty, on the same mount as --upper")
		x.BoolVar(&x.readonly, "readonly", false, "mount the lower layers only (no --upper, --work): a read-only view")
		x.BoolVar(&x.volatile, "volatile", false, "no syncs of the upper layer, not even at unmount (overlay's volatile option): for a container removed when it ends")
		x.StringVar(&x.method, "method", "auto", "system calls to use: auto, fsconfig (new mount API, Linux 6.8+), or mount (classic mount(2))")
		x.StringVar(&x.links, "links", "", "folder for short layer links when a mount(2) option string would pass one page (default ROOT/overlay/l)")
		x.StateRootVar(&x.root)
	case "diff":
		x.StringArrayVar(&x.lower, "lower", nil, "lower layers, TOP-FIRST, separated by ':' (default: from the mount table)")
		x.StringVar(&x.links, "links", "", "folder of short layer links to resolve (default ROOT/overlay/l)")
		x.StateRootVar(&x.root)
	case "inspect":
		x.StringVar(&x.links, "links", "", "folder of short layer links to resolve (default ROOT/overlay/l)")
		x.StateRootVar(&x.root)
	}
	return x, x.Parse(args)
}

func (c *cmd) linkDir() string {
	if c.links != "" {
		return c.links
	}
	return filepath.Join(c.root, "overlay", "l")
}

// lowerDirs splits the --lower values on ':' (a path holding ':' can be
// written with a backslash, "a\:b", as in the kernel's own option).
func (c *cmd) lowerDirs() []string {
	var out []string
	for _, v := range c.lower {
		out = append(out, splitColons(v)...)
	}
	return out
}

func splitColons(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ':':
			cur.WriteByte(':')
			i++
		case s[i] == ':':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(out, cur.String())
}

// oneArg returns the single positional argument.
func (c *cmd) oneArg(what string) (string, error) {
	if c.NArg() != 1 {
		return "", cli.Usagef(c.Name(), "want exactly one %s, got %d arguments", what, c.NArg())
	}
	return c.Arg(0), nil
}

func runMount(c *cmd) error {
	merged, err := c.oneArg("MERGED dir")
	if err != nil {
		return err
	}
	if len(c.lower) == 0 {
		return cli.Usagef(tool+" mount", "missing --lower DIR[:DIR...]")
	}
	method := overlayfs.Method(c.method)
	if c.method == "auto" {
		method = overlayfs.MethodAuto
	}
	_, err = overlayfs.Mount(overlayfs.Options{
		Lower:    c.lowerDirs(),
		Upper:    c.upper,
		Work:     c.work,
		Merged:   merged,
		ReadOnly: c.readonly,
		Volatile: c.volatile,
		Method:   method,
		LinkDir:  c.linkDir(),
	}, c.Explainer())
	return err
}

func runUmount(c *cmd) error {
	merged, err := c.oneArg("MERGED dir")
	if err != nil {
		return err
	}
	return overlayfs.Unmount(merged, c.Explainer())
}

func runDiff(c *cmd) error {
	dir, err := c.oneArg("UPPER or MERGED dir")
	if err != nil {
		return err
	}
	upper, lower, err := diffLayers(dir, c.lowerDirs(), c.linkDir())
	if err != nil {
		return err
	}
	changes, err := overlayfs.Diff(upper, lower)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		fmt.Println(ch)
	}
	return nil
}

// diffLayers finds the upper and lower dirs for diff: from the mount when
// dir is a mounted overlay or the upper dir of one, else dir itself with
// the given lower dirs.
func diffLayers(dir string, lower []string, linkDir string) (string, []string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", nil, cli.WithHint(fmt.Errorf("diff %s: no such directory", dir), "give an upper dir, or the merged dir of a mounted overlay")
	}
	if l, err := overlayfs.Inspect(abs, linkDir); err == nil {
		if l.Upper == "" {
			return "", nil, fmt.Errorf("diff %s: a read-only overlay has no upper layer, so no changes", dir)
		}
		return l.Upper, l.Lower, nil
	}
	if len(lower) > 0 {
		for i := range lower {
			if lower[i], err = filepath.Abs(lower[i]); err != nil {
				return "", nil, err
			}
		}
		return abs, lower, nil
	}
	if l, err := overlayfs.FindByUpper(abs, linkDir); err == nil && l != nil {
		return abs, l.Lower, nil
	}
	return abs, nil, nil
}

func runMarkers(c *cmd) error {
	upper, err := c.oneArg("UPPER dir")
	if err != nil {
		return err
	}
	if fi, err := os.Stat(upper); err != nil || !fi.IsDir() {
		return fmt.Errorf("markers %s: not a directory", upper)
	}
	abs, err := filepath.Abs(upper)
	if err != nil {
		return err
	}
	markers, err := overlayfs.Markers(abs)
	if err != nil {
		return err
	}
	for _, m := range markers {
		fmt.Printf("%-8s %-30s %s\n", m.Kind, m.Path, m.OCIName())
	}
	return nil
}

// graphDriver is docker inspect's GraphDriver block.
type graphDriver struct {
	GraphDriver struct {
		Data struct {
			LowerDir  string
			MergedDir string
			UpperDir  string `json:",omitempty"`
			WorkDir   string `json:",omitempty"`
		}
		Name string
	}
}

func runInspect(c *cmd) error {
	merged, err := c.oneArg("MERGED dir")
	if err != nil {
		return err
	}
	l, err := overlayfs.Inspect(merged, c.linkDir())
	if err != nil {
		return err
	}
	var g graphDriver
	g.GraphDriver.Name = "overlay"
	g.GraphDriver.Data.LowerDir = strings.Join(l.Lower, ":")
	g.GraphDriver.Data.MergedDir = l.Merged
	g.GraphDriver.Data.UpperDir = l.Upper
	g.GraphDriver.Data.WorkDir = l.Work
	b, err := json.MarshalIndent(g, "", "    ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// withHint turns the library's hinted errors into the toolkit's hint line.
func withHint(err error) error {
	var e *overlayfs.Error
	if errors.As(err, &e) {
		return cli.WithHint(err, e.Hint)
	}
	return err
}
