// Command workshop-mirror prepares a registry storage folder holding the
// images the workshop uses, made offline (busybox from busybox-static,
// Debian bookworm from debootstrap), so a local docker-registry can serve
// them as a mirror of docker.io (library/busybox, library/debian).
//
//	workshop-mirror prepare --storage DIR     # push the images into DIR (once)
//	workshop-mirror config --storage DIR --addr 127.0.0.1:5000   # print the registry config
//
// It serves lesson 08 (lessons/08-images.md) and every lesson after it that pulls an image.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"mini-docker/internal/cli"
	"mini-docker/internal/testenv"
	"mini-docker/internal/testenv/debianfs"
)

const tool = "workshop-mirror"

func main() { cli.Main(tool, run) }

func run(args []string) error {
	if len(args) == 0 {
		return cli.Usagef(tool, "want a command: prepare or config")
	}
	f := pflag.NewFlagSet(tool, pflag.ContinueOnError)
	storage := f.String("storage", "/var/lib/mini-docker-mirror", "the registry's storage folder")
	addr := f.String("addr", "127.0.0.1:5000", "address the registry listens on")
	if err := f.Parse(args[1:]); err != nil {
		return cli.Usagef(tool, "%v", err)
	}
	switch args[0] {
	case "prepare":
		// The Debian tree the tests' overlays sit on, extracted here once:
		// scripts/vm-matrix copies it into its VMs, where extracting it
		// costs minutes of an emulated CPU.
		if _, err := debianfs.Tree(); err != nil {
			return err
		}
		marker := filepath.Join(*storage, ".workshop-images")
		if _, err := os.Stat(marker); err == nil {
			fmt.Printf("%s: images already in %s\n", tool, *storage)
			return nil
		}
		if err := os.MkdirAll(*storage, 0o755); err != nil {
			return err
		}
		fmt.Printf("%s: building the workshop images offline (the first time, debootstrap takes about a minute)\n", tool)
		r, err := testenv.StartRegistry(testenv.RegistryOptions{StorageDir: *storage})
		if err != nil {
			return err
		}
		defer r.Stop()
		if err := testenv.PushStandardImages(r); err != nil {
			return err
		}
		fmt.Printf("%s: %s holds library/busybox:latest, library/debian:bookworm, library/debian:latest\n", tool, *storage)
		return os.WriteFile(marker, nil, 0o644)
	case "config":
		fmt.Print(testenv.RegistryConfig(*addr, *storage))
		return nil
	}
	return cli.Usagef(tool, "unknown command %q: want prepare or config", args[0])
}
