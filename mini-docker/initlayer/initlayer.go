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
// Docker makes one per container (/var/lib/docker/overlay2/ID-init).
// Its content is the same for every container, so mini-docker makes one
// per state root (ROOT/init, Shared) and every container's overlay lists
// it as a lower layer, as it lists the image's: nothing of it is made or
// removed per container. A container recorded by an older mini-docker
// keeps its own (containers/ID/init); Make makes either.
//
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package initlayer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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

// Shared is the init layer every container of the state root root
// shares.
func Shared(root string) string { return filepath.Join(root, "init") }

// MakeListed makes the init layer that lower (a container's overlay's
// lower layers) lists, if it lists one: the state root's (Shared(root)),
// or the container's own (containerDir/init), as a container recorded by
// an older mini-docker has.
func MakeListed(lower []string, root, containerDir string, ex *explain.Printer) error {
	for _, d := range []string{Shared(root), filepath.Join(containerDir, "init")} {
		if slices.Contains(lower, d) {
			return Make(d, ex)
		}
	}
	return nil
}

// Make writes the init layer into dir, as moby's initlayer.Setup does:
// folders 0755, empty files 0755, the mtab link. It does nothing when
// dir is there already (made by an earlier start). The layer is written
// in a folder beside dir and renamed to dir once whole, so that a start
// running meanwhile never mounts half of it; of two starts that make it
// at once, the first rename wins and the other's copy is removed.
func Make(dir string, ex *explain.Printer) error {
	if _, err := os.Stat(dir); err == nil {
		ex.Note("%s: the init layer, made by an earlier start", dir)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("init layer: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".init-")
	if err != nil {
		return fmt.Errorf("init layer: %w", err)
	}
	if err := write(tmp, dir, ex); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("init layer: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return nil // another start made it first
		}
		return fmt.Errorf("init layer: %w", err)
	}
	return nil
}

// write makes the init layer's entries in tmp, printing them as made in
// dir (where the rename puts them).
func write(tmp, dir string, ex *explain.Printer) error {
	shown := func(p string) string { return dir + strings.TrimPrefix(p, tmp) }
	var dirs, files []string
	for _, e := range Entries {
		p := filepath.Join(tmp, e.Name)
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
	ex.Argv(append([]string{"mkdir", "-p"}, mapped(dirs, shown)...)...)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("init layer: %w", err)
		}
	}
	ex.Argv(append([]string{"touch"}, mapped(files, shown)...)...)
	ex.Argv(append([]string{"chmod", "755"}, mapped(files, shown)...)...)
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
			p := filepath.Join(tmp, e.Name)
			ex.Argv("ln", "-sf", e.Type, shown(p)) // as the printed script may run again
			if err := os.Symlink(e.Type, p); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("init layer: %w", err)
			}
		}
	}
	return nil
}

func mapped(ps []string, f func(string) string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = f(p)
	}
	return out
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
