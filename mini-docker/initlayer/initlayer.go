// Package initlayer makes Docker's init layer: the read-only layer that
// sits between a container's image and its own upper layer (moby's
// daemon/initlayer). It holds what every container's root needs before
// its start binds anything in: the mount points of /proc, /sys,
// /dev/pts, /dev/shm and the three /etc files, /dev/console, an empty
// /.dockerenv (which scripts test to know they run in Docker), and
// /etc/mtab as a link to /proc/mounts. Because it is a layer of its own,
// none of it lands in the container's upper layer: `diff` and `commit`
// never see it, while `find / -xdev` and `export` list it, as Docker's do.
//
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package initlayer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/internal/explain"
)

// Entry is one path of the init layer: Type is "dir", "file", or the
// target of a symlink.
type Entry struct{ Name, Type string }

// Entries are Docker's init layer, as moby lists it.
var Entries = []Entry{
	{"dev/pts", "dir"}, {"dev/shm", "dir"}, {"proc", "dir"}, {"sys", "dir"},
	{".dockerenv", "file"}, {"etc/resolv.conf", "file"}, {"etc/hosts", "file"},
	{"etc/hostname", "file"}, {"dev/console", "file"}, {"etc/mtab", "/proc/mounts"},
}

// Make writes the init layer into dir, as moby's initlayer.Setup does:
// folders 0755, empty files 0755, the mtab link. It does nothing when
// dir is there already (a container started before).
func Make(dir string, ex *explain.Printer) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	var dirs, files []string
	for _, e := range Entries {
		p := filepath.Join(dir, e.Name)
		switch e.Type {
		case "dir":
			dirs = append(dirs, p)
		default:
			dirs = append(dirs, filepath.Dir(p))
			if e.Type == "file" {
				files = append(files, p)
			}
		}
	}
	dirs = leaves(dirs)
	ex.Argv(append([]string{"mkdir", "-p"}, dirs...)...)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("init layer: %w", err)
		}
	}
	ex.Argv(append([]string{"touch"}, files...)...)
	ex.Argv(append([]string{"chmod", "755"}, files...)...)
	for _, f := range files {
		fd, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return fmt.Errorf("init layer: %w", err)
		}
		fd.Close()
		if err := os.Chmod(f, 0o755); err != nil {
			return fmt.Errorf("init layer: %w", err)
		}
	}
	for _, e := range Entries {
		if e.Type != "dir" && e.Type != "file" {
			p := filepath.Join(dir, e.Name)
			ex.Argv("ln", "-s", e.Type, p)
			if err := os.Symlink(e.Type, p); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("init layer: %w", err)
			}
		}
	}
	return nil
}

// leaves drops repeated paths and those that are a parent of another
// (mkdir -p makes them), keeping the order.
func leaves(ps []string) []string {
	var out []string
	for i, p := range ps {
		keep := true
		for j, q := range ps {
			if q == p && j < i || strings.HasPrefix(q, p+"/") {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}
