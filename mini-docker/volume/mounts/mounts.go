// Package mounts resolves a container's -v, --mount and --volumes-from
// once, at create, into Docker's MountPoints (`docker inspect`'s Mounts):
// each a host folder (a volume's _data, or the bind's host path) and
// where it goes in the container. The start binds them (chroot --bind,
// spec/oci.go), after filling a new volume from the image (CopyUp).
// Docker's daemon keeps the same job in its volume/mounts package.
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/local"
)

// Resolve makes the volumes hc and cfg name that do not exist yet in vs
// (named ones, and an anonymous one for each of cfg.Volumes no other
// mount covers) and returns the mount points; --volumes-from finds its
// containers in cs. undo removes the volumes it made, for a create that
// fails after it.
func Resolve(vs *local.Store, cs *container.Store, hc *container.HostConfig, cfg *container.Config) (mps []container.MountPoint, undo func(), err error) {
	var made []string
	rollback := func() {
		for _, n := range made {
			vs.Remove(n)
		}
	}
	defer func() {
		if err != nil {
			rollback()
		}
	}()
	addVolume := func(name, target, mode string, rw bool, labels map[string]string) error {
		v, created, err := vs.Create(name, labels)
		if err != nil {
			return err
		}
		if created {
			made = append(made, v.Name)
		}
		mps = append(mps, container.MountPoint{Type: mount.TypeVolume, Name: v.Name, Source: v.Mountpoint,
			Destination: target, Driver: local.Driver, Mode: mode, RW: rw})
		return nil
	}
	for _, b := range hc.Binds {
		m, err := spec.ParseVolume(b)
		if err != nil {
			return nil, nil, err
		}
		mode := ""
		if p := strings.Split(b, ":"); len(p) == 3 {
			mode = p[2]
		}
		if err := addMount(&mps, m, mode, addVolume); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range hc.Mounts {
		mode := ""
		if m.VolumeOptions != nil && m.VolumeOptions.NoCopy {
			mode = "nocopy"
		}
		if err := addMount(&mps, m, mode, addVolume); err != nil {
			return nil, nil, err
		}
	}
	if err := volumesFrom(cs, &mps, hc.VolumesFrom); err != nil {
		return nil, nil, err
	}
	targets := make([]string, 0, len(cfg.Volumes))
	for t := range cfg.Volumes {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		if !covered(mps, hc.Tmpfs, t) {
			if err := addVolume("", filepath.Clean(t), "", true, map[string]string{local.AnonymousLabel: ""}); err != nil {
				return nil, nil, err
			}
		}
	}
	return mps, rollback, nil
}

// addMount adds one -v or --mount mount to mps (a volume through addVolume).
func addMount(mps *[]container.MountPoint, m mount.Mount, mode string,
	addVolume func(name, target, mode string, rw bool, labels map[string]string) error) error {
	target := filepath.Clean(m.Target)
	switch m.Type {
	case mount.TypeBind:
		prop := mount.PropagationRPrivate
		if m.BindOptions != nil && m.BindOptions.Propagation != "" {
			prop = m.BindOptions.Propagation
		}
		*mps = append(*mps, container.MountPoint{Type: mount.TypeBind, Source: m.Source, Destination: target,
			Mode: mode, RW: !m.ReadOnly, Propagation: prop})
	case mount.TypeTmpfs:
		*mps = append(*mps, container.MountPoint{Type: mount.TypeTmpfs, Destination: target, RW: !m.ReadOnly})
	case mount.TypeVolume:
		var labels map[string]string
		if m.VolumeOptions != nil {
			labels = m.VolumeOptions.Labels
		}
		if m.Source == "" {
			labels = map[string]string{local.AnonymousLabel: ""}
		}
		return addVolume(m.Source, target, mode, !m.ReadOnly, labels)
	}
	return nil
}

// volumesFrom adds the volumes and binds of other containers
// (--volumes-from CONTAINER[:ro|rw]), where no mount of ours is.
func volumesFrom(cs *container.Store, mps *[]container.MountPoint, from []string) error {
	for _, f := range from {
		ref, mode, _ := strings.Cut(f, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return fmt.Errorf("invalid mode: %s", mode)
		}
		src, err := cs.Find(ref)
		if err != nil {
			return err
		}
		for _, mp := range src.Mounts {
			if mp.Type == mount.TypeTmpfs || covered(*mps, nil, mp.Destination) {
				continue
			}
			if mode != "" {
				mp.RW, mp.Mode = mode == "rw", mode
			}
			*mps = append(*mps, mp)
		}
	}
	return nil
}

// covered reports whether a mount point or a --tmpfs is at target.
func covered(mps []container.MountPoint, tmpfs map[string]string, target string) bool {
	target = filepath.Clean(target)
	if _, ok := tmpfs[target]; ok {
		return true
	}
	return slices.ContainsFunc(mps, func(mp container.MountPoint) bool { return mp.Destination == target })
}

// Prepare does what a start needs before the binds: the missing
// host folder of a -v bind made (Docker makes it; --mount refuses it,
// at create), and each empty volume filled from the image (copy-up,
// unless nocopy). The overlay is mounted at merged by now.
func Prepare(vs *local.Store, c *container.Container, merged string) error {
	for _, b := range c.HostConfig.Binds {
		m, err := spec.ParseVolume(b)
		if err != nil || m.Type != mount.TypeBind {
			continue
		}
		if _, err := os.Stat(m.Source); os.IsNotExist(err) {
			vs.Explain.Argv("mkdir", "-p", m.Source)
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return fmt.Errorf("create the bind source %s: %w", m.Source, err)
			}
		}
	}
	for _, mp := range c.Mounts {
		if mp.Type != mount.TypeVolume || strings.Contains(mp.Mode, "nocopy") {
			continue
		}
		if err := vs.CopyUp(merged, mp.Destination, mp.Source); err != nil {
			return fmt.Errorf("volume %s: %w", mp.Name, err)
		}
	}
	return nil
}

// Users lists the containers of cs (any state) that mount volume name,
// by ID.
func Users(cs *container.Store, name string) ([]string, error) {
	all, _, err := cs.List()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range all {
		for _, mp := range c.Mounts {
			if mp.Type == mount.TypeVolume && mp.Name == name {
				ids = append(ids, c.ID)
				break
			}
		}
	}
	return ids, nil
}

// RemoveAnonymous removes the anonymous volumes c mounted that no other
// container of cs mounts (rm -v, run --rm), as Docker does.
func RemoveAnonymous(vs *local.Store, cs *container.Store, c *container.Container) {
	for _, mp := range c.Mounts {
		if mp.Type != mount.TypeVolume {
			continue
		}
		v, err := vs.Get(mp.Name)
		if err != nil || !local.Anonymous(v) {
			continue
		}
		if users, err := Users(cs, mp.Name); err == nil && len(slices.DeleteFunc(users, func(id string) bool { return id == c.ID })) == 0 {
			vs.Remove(mp.Name)
		}
	}
}
