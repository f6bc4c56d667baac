// Command pull fetches images from a registry into the image store, the
// way `docker pull` does, and manages the store: images, rmi, inspect,
// verify, load, save. Lesson 08.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/pull/image"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

const tool = "pull"

// commands is pull's top level: `pull IMAGE` pulls (its flags answer
// --help), and the store's commands manage what it pulled.
var commands = cli.Dispatcher{
	Tool: tool,
	Commands: cli.Actions(tool, []cli.Action[*storeCmd]{
		{Name: "images", Usage: "images [--root DIR]", Summary: "List the images of the store, like `docker images`.",
			Examples: []string{"pull images"}, Run: images},
		{Name: "rmi", Usage: "rmi [--root DIR] IMAGE...", Summary: "Untag images and delete the blobs and unpacked layers no other image uses.",
			Examples: []string{"pull rmi debian:bookworm"}, Run: rmi},
		{Name: "inspect", Usage: "inspect [--root DIR] IMAGE", Summary: "Print an image's manifest digest, config and unpacked layer folders as JSON.",
			Examples: []string{"pull inspect debian:bookworm"}, Run: inspect},
		{Name: "verify", Usage: "verify [--root DIR]", Summary: "Re-hash every blob of the store and check that every image is complete (like fsck).",
			Examples: []string{"pull verify"}, Run: verify},
		{Name: "load", Usage: "load [--root DIR] [-i FILE]", Summary: "Import the images of a `docker save` tarball or an OCI archive (default: from stdin).",
			Examples: []string{"pull load -i debian.tar", "docker save busybox | pull load"}, Run: load},
		{Name: "save", Usage: "save [--root DIR] -o FILE IMAGE...", Summary: "Write images to a tar archive that is both an OCI archive and a `docker save` tarball.",
			Examples: []string{"pull save -o debian.tar debian:bookworm"}, Run: save},
	}, parseStore),
	Default: pull,
}

func main() { cli.Main(tool, commands.Run) }

func pull(args []string) error {
	var (
		root, platform    string
		mirrors, insecure []string
		quiet, implicit   bool
		maxConcurrent     int
	)
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "[flags] IMAGE[:TAG|@DIGEST]\n       pull images | rmi IMAGE... | inspect IMAGE | verify | load -i FILE | save -o FILE IMAGE...",
		Summary: "Download an image from a registry into the store (<root>/images, an OCI image layout),\n" +
			"verifying every digest, and unpack each layer into <root>/layers/ for overlayfs.\n" +
			"Registry mirrors for docker.io: --registry-mirror, $MINI_DOCKER_REGISTRY_MIRROR, or\n" +
			"\"registry-mirrors\" in /etc/mini-docker/daemon.json. Passwords: ~/.docker/config.json.\n" +
			"A layer may not expand past --max-layer-size or --max-layer-ratio, and unpacking stops\n" +
			"before the store's filesystem has less than --store-reserve percent free (daemon.json:\n" +
			"\"max-layer-size\", \"max-layer-ratio\", \"store-reserve\"). Every digest an image gives is\n" +
			"checked before it becomes a URL or a path.",
		Examples: []string{
			"pull busybox",
			"pull --explain 127.0.0.1:5000/library/debian:bookworm",
			"pull --registry-mirror http://127.0.0.1:5000 debian:bookworm",
			"pull --platform linux/arm64 alpine",
			"pull --max-layer-size 2g --max-layer-ratio 50 --store-reserve 10 debian:bookworm",
			"pull images",
			"pull save -o debian.tar debian:bookworm && pull load -i debian.tar",
		},
	})
	f.StateRootVar(&root)
	f.StringVar(&platform, "platform", "", "platform to pull from a multi-platform image, os/arch[/variant] (default: this host's)")
	f.IntVar(&maxConcurrent, "max-concurrent", 3, "layers downloaded at the same time")
	f.StringArrayVar(&mirrors, "registry-mirror", nil, "registry mirror for docker.io images, tried first (repeatable)")
	f.StringArrayVar(&insecure, "insecure-registry", nil, "registry HOST:PORT that may be reached over plain HTTP (repeatable; loopback always may)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the image name")
	limits := limitFlags(f)
	f.BoolVar(&implicit, "implicit", false, "the pull happens because a run needs the image (prints Docker's 'Unable to find image' line)")
	f.MarkHidden("implicit")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 1 {
		return cli.Usagef(tool, "pull takes exactly one image reference, got %d", f.NArg())
	}
	if maxConcurrent < 1 {
		return cli.Usagef(tool, "--max-concurrent must be at least 1")
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	lim, err := limits(s)
	if err != nil {
		return err
	}
	regOpts, err := image.RegistryOptions(mirrors, insecure)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_, err = image.Pull(ctx, s, f.Arg(0), image.Options{
		Platform: platform, MaxConcurrent: maxConcurrent, Registry: regOpts, Limits: lim,
		Out: os.Stdout, Err: os.Stderr, TTY: cli.IsTerminal(os.Stdout), Quiet: quiet, Implicit: implicit,
		Explain: f.Explainer(),
	})
	return hint(err)
}

// limitFlags adds the flags that bound what a layer may take, and
// returns how to resolve them against daemon.json once the store is
// open (the reserve is the store's).
func limitFlags(f *cli.Flags) func(*store.Store) (image.Limits, error) {
	maxSize := f.String("max-layer-size", "", "refuse a layer that expands past SIZE (\"2g\", \"500m\"; daemon.json \"max-layer-size\"; default: no limit)")
	maxRatio := f.Float64("max-layer-ratio", -1, "refuse a layer that expands past N times its compressed size (daemon.json \"max-layer-ratio\"; 0: no limit, the default)")
	reserve := f.Float64("store-reserve", -1, "stop unpacking before the store's filesystem has less than PERCENT free (daemon.json \"store-reserve\"; 0: off; default 5)")
	return func(s *store.Store) (image.Limits, error) {
		lim, res, err := image.LayerLimits(*maxSize, *maxRatio, *reserve)
		if err != nil {
			return lim, cli.Usagef(tool, "%v", err)
		}
		s.Reserve = res
		return lim, nil
	}
}

// hint adds the fix for the failures a learner meets first.
func hint(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid reference format"):
		return cli.WithHint(err, "references look like NAME[:TAG], e.g. debian:bookworm or 127.0.0.1:5000/library/busybox:latest (lowercase)")
	case strings.Contains(msg, "connection refused"):
		return cli.WithHint(err, "is the registry running? (in the lessons: $REGISTRY)")
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return cli.WithHint(err, "the registry speaks plain HTTP: add --insecure-registry HOST:PORT")
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "network is unreachable"):
		return cli.WithHint(err, "no network: use a local registry with --registry-mirror, or `pull load -i FILE`")
	case errors.Is(err, store.ErrReserve), errors.Is(err, unix.ENOSPC):
		return cli.WithHint(err, "the store's disk is full: free space, or give another state root (--root) on a larger disk; nothing was stored")
	case errors.Is(err, image.ErrLayerTooLarge):
		return cli.WithHint(err, "raise --max-layer-size / --max-layer-ratio if you trust this image; nothing was stored")
	case errors.Is(err, store.ErrDigestMismatch):
		return cli.WithHint(err, "the registry served altered or corrupt content; nothing was stored")
	}
	return err
}

// storeCmd is a store command (images, rmi, ...) once its flags are
// read: the store it works on and its own flags.
type storeCmd struct {
	*cli.Flags
	store  *store.Store
	input  string                                   // load -i
	limits func(*store.Store) (image.Limits, error) // load's limit flags
	output string                                   // save -o
}

// parseStore reads the flags of store command name (--root, and load's
// and save's own), checks the images it is given, and opens the store.
func parseStore(name string, f *cli.Flags, args []string) (*storeCmd, error) {
	c := &storeCmd{Flags: f}
	var root string
	f.StateRootVar(&root)
	switch name {
	case "load":
		f.StringVarP(&c.input, "input", "i", "", "read from FILE instead of stdin")
		c.limits = limitFlags(f)
	case "save":
		f.StringVarP(&c.output, "output", "o", "", "write to FILE (default: stdout, when it is not a terminal)")
	}
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case (name == "rmi" || name == "save") && f.NArg() == 0:
		return nil, cli.Usagef(tool+" "+name, "no image given")
	case name == "inspect" && f.NArg() != 1:
		return nil, cli.Usagef(tool+" inspect", "inspect takes one image")
	}
	var err error
	c.store, err = store.Open(root)
	return c, err
}

func images(c *storeCmd) error {
	list, err := c.store.List()
	if err != nil {
		return err
	}
	l := cli.Listing{Header: []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}}
	for _, img := range list {
		repo, tag := splitRef(img.Ref)
		created := "N/A"
		if img.Config.Created != nil {
			created = img.Config.Created.UTC().Format(time.DateOnly)
		}
		l.Rows = append(l.Rows, []string{repo, tag, img.ID.Encoded()[:12], created, image.HumanSize(float64(img.Size))})
	}
	return l.Print(os.Stdout, false)
}

// splitRef shows a stored name as Docker does: familiar repository, tag.
func splitRef(full string) (string, string) {
	r, err := reference.Parse(full)
	if err != nil {
		return full, "<none>"
	}
	tag := r.Tag
	if tag == "" {
		tag = "<none>"
	}
	return r.FamiliarName(), tag
}

func rmi(c *storeCmd) error {
	s := c.store
	for _, ref := range c.Args() {
		img, err := s.Lookup(ref)
		if err != nil {
			return err
		}
		removed, err := s.Remove(ref)
		if err != nil {
			return err
		}
		if img.Ref != "" { // an untagged image (docker import without a name) is only deleted
			r, t := splitRef(img.Ref)
			fmt.Printf("Untagged: %s:%s\n", r, t)
		}
		for _, d := range removed {
			fmt.Printf("Deleted: %s\n", d)
		}
	}
	return nil
}

func inspect(c *storeCmd) error {
	img, err := c.store.Lookup(c.Arg(0))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(img)
}

func verify(c *storeCmd) error {
	s := c.store
	ex := c.Explainer()
	n := 0
	problems, err := s.Verify(func(d digest.Digest) {
		n++
		if p, err := s.BlobPath(d); err == nil {
			ex.Argv("sha256sum", p)
		}
	})
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		return cli.Errorf(1, "store %s: %d problem(s)", s.Dir(), len(problems))
	}
	fmt.Printf("%d blobs verified, store %s is consistent\n", n, s.Dir())
	return nil
}

func load(c *storeCmd) error {
	lim, err := c.limits(c.store)
	if err != nil {
		return err
	}
	names, err := image.LoadFile(context.Background(), c.store, c.input, lim, c.Explainer())
	if err != nil {
		return hint(err)
	}
	for _, n := range names {
		fmt.Printf("Loaded image: %s\n", n)
	}
	return nil
}

func save(c *storeCmd) error {
	if c.output == "" && cli.IsTerminal(os.Stdout) {
		return cli.Usagef(tool+" save", "refusing to write a tar archive to a terminal: give -o FILE")
	}
	return cli.WriteOutput(c.output, func(w *os.File) error { return image.Save(c.store, c.Args(), w) })
}
