package system

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/sweep"
	"mini-docker/pull/store"
)

var containerPruneSpec = command.Spec{
	Name: "container prune", Usage: "[-f]",
	Summary:  "Remove all stopped containers.",
	Examples: []string{"mini-docker container prune -f"},
}

// ContainerPrune is `mini-docker container prune`: every container that
// is not running removed.
func ContainerPrune(root string, args []string) error {
	f := containerPruneSpec.Flags()
	e, err := confirmed(root, f, args, "WARNING! This will remove all stopped containers.")
	if e == nil {
		return err
	}
	ids, err := pruneContainers(e)
	printDeleted(ids)
	fmt.Println("Total reclaimed space: 0B")
	return err
}

var imagePruneSpec = command.Spec{
	Name: "image prune", Usage: "[-f] [-a]",
	Summary:  "Remove untagged images no container uses (every such image with -a).",
	Examples: []string{"mini-docker image prune -a -f"},
}

// ImagePrune is `mini-docker image prune`: the untagged images no
// container uses and the blobs no image references removed, and with -a
// every image no container uses.
func ImagePrune(root string, args []string) error {
	f := imagePruneSpec.Flags()
	all := f.BoolP("all", "a", false, "remove all images not used by a container")
	e, err := confirmed(root, f, args, "WARNING! This will remove images without a container.")
	if e == nil {
		return err
	}
	return pruneImages(root, e, *all)
}

var systemPruneSpec = command.Spec{
	Name: "system prune", Usage: "[-f] [-a]",
	Summary:  "Remove stopped containers, unused images (with -a) and what crashed runs left behind: network namespaces, cgroups, leases and mounts no container owns.",
	Examples: []string{"mini-docker system prune -f"},
}

// SystemPrune is `mini-docker system prune`: stopped containers, what
// crashed runs left behind (sweep), and with -a unused images.
func SystemPrune(root string, args []string) error {
	f := systemPruneSpec.Flags()
	all := f.BoolP("all", "a", false, "remove all images not used by a container")
	e, err := confirmed(root, f, args, "WARNING! This will remove:\n  - all stopped containers\n  - network namespaces, cgroups and leases no container owns")
	if e == nil {
		return err
	}
	ids, err := pruneContainers(e)
	printDeleted(ids)
	swept, err2 := sweep.Leases(e)
	swept = append(swept, sweep.EarlyGroups(e)...)
	swept = append(swept, e.Store.SweepRemoving()...)
	if s, err := store.Open(root); err == nil {
		s.CleanIngest() // what killed pulls, loads, builds and commits left in ingest/
	}
	if len(swept) > 0 {
		fmt.Println("Released leftovers:")
		for _, s := range swept {
			fmt.Println(s)
		}
		fmt.Println()
	}
	var err3 error
	if *all {
		err3 = pruneImages(root, e, true)
	}
	fmt.Println("Total reclaimed space: 0B")
	return errors.Join(err, err2, err3)
}

// confirmed parses a prune's flags (with -f), asks the user unless -f,
// and opens the engine. A nil engine means: return the error (nil after
// --help or a "no").
func confirmed(root string, f *cli.Flags, args []string, warning string) (*engine.Engine, error) {
	force := f.BoolP("force", "f", false, "do not prompt for confirmation")
	if err := f.Parse(args); err != nil {
		return nil, cli.Done(err)
	}
	if !*force && !confirm(warning) {
		return nil, nil
	}
	return command.OpenEngine(root, f)
}

func confirm(warning string) bool {
	fmt.Printf("%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// pruneContainers removes every container that is not running.
func pruneContainers(e *engine.Engine) ([]string, error) {
	cs, err := e.List()
	if err != nil {
		return nil, err
	}
	var ids []string
	var errs []error
	for _, ct := range cs {
		if ct.State.Running || (ct.State.Status == container.Created && ct.Runtime.MonitorPid != 0 && container.Alive(ct.Runtime.MonitorPid, ct.Runtime.MonitorStart)) {
			continue
		}
		if err := e.Remove(ct, false); err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, ct.ID)
	}
	return ids, errors.Join(errs...)
}

// printDeleted prints the removed containers as docker does.
func printDeleted(ids []string) {
	fmt.Println("Deleted Containers:")
	for _, id := range ids {
		fmt.Println(id)
	}
	fmt.Println()
}

// pruneImages removes the images no container uses (untagged ones, or
// all) and the blobs
// no image references.
func pruneImages(root string, e *engine.Engine, all bool) error {
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	list, err := s.List()
	if err != nil {
		return err
	}
	for _, img := range list {
		// Without -a only the untagged images (docker import without a name).
		if (!all && img.Ref != "") || len(command.ImageUsers(e, img.ID.String())) > 0 {
			continue
		}
		if img.Ref == "" {
			if _, err := s.Remove(img.ID.String()); err != nil {
				return err
			}
			fmt.Printf("Deleted Images:\ndeleted: %s\n", img.ID)
			continue
		}
		if _, err := s.Remove(img.Ref); err != nil {
			return err
		}
		fmt.Printf("Deleted Images:\nuntagged: %s\n", img.Ref)
	}
	_, err = s.Prune()
	return err
}
