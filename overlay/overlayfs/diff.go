package overlayfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// How overlay records, in the upper layer, what a container removed
// (Documentation/filesystems/overlayfs.rst, "whiteouts and opaque
// directories"):
//
//   - a whiteout is a character device with device number 0/0 standing
//     where the removed file or directory was: lookups stop there;
//   - an opaque directory carries the xattr trusted.overlay.opaque="y"
//     (user.overlay.opaque with the userxattr mount option): whatever the
//     lower layers hold under the same path is hidden. The kernel marks a
//     directory opaque when one is created where a lower one was removed
//     (rm -rf dir; mkdir dir); some kernels also mark a directory newly
//     made in a merged one, as a shortcut for later lookups.
//
// OCI image layers (tar files) spell the same two things as file names:
// ".wh.NAME" next to the removed NAME, and ".wh..wh..opq" inside an opaque
// directory. OCIWhiteout and OCIOpaque give those names.
const (
	OpaqueXattr     = "trusted.overlay.opaque"
	UserOpaqueXattr = "user.overlay.opaque"
	WhiteoutPrefix  = ".wh."
	OpaqueWhiteout  = ".wh..wh..opq"
)

// IsWhiteout reports whether fi (from Lstat) is an overlay whiteout: a
// character device with major and minor number 0.
func IsWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 || fi.Mode()&fs.ModeDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && unix.Major(st.Rdev) == 0 && unix.Minor(st.Rdev) == 0
}

// IsOpaque reports whether the directory dir is marked opaque, by
// trusted.overlay.opaque=y or user.overlay.opaque=y.
func IsOpaque(dir string) (bool, error) {
	for _, name := range []string{OpaqueXattr, UserOpaqueXattr} {
		buf := make([]byte, 8)
		n, err := unix.Lgetxattr(dir, name, buf)
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read xattr %s of %s: %w", name, dir, err)
		}
		if n == 1 && buf[0] == 'y' {
			return true, nil
		}
	}
	return false, nil
}

// OCIWhiteout is the name an OCI layer uses for the removal of p
// ("/etc/motd" → "etc/.wh.motd").
func OCIWhiteout(p string) string {
	dir, base := path.Split(strings.TrimPrefix(p, "/"))
	return dir + WhiteoutPrefix + base
}

// OCIOpaque is the name an OCI layer uses to mark the directory p opaque
// ("/var/cache" → "var/cache/.wh..wh..opq").
func OCIOpaque(p string) string {
	return path.Join(strings.TrimPrefix(p, "/"), OpaqueWhiteout)
}

// MarkerKind is "whiteout" or "opaque".
type MarkerKind string

const (
	MarkerWhiteout MarkerKind = "whiteout"
	MarkerOpaque   MarkerKind = "opaque"
)

// Marker is one whiteout or opaque directory found in an upper layer.
type Marker struct {
	Kind MarkerKind
	Path string // inside the layer, starting with "/"
}

// OCIName is the marker's name in an OCI layer tar.
func (m Marker) OCIName() string {
	if m.Kind == MarkerOpaque {
		return OCIOpaque(m.Path)
	}
	return OCIWhiteout(m.Path)
}

// walkLayer calls fn for every file and directory below the layer
// folder upper (not upper itself), with its path and its path inside
// the layer ("/etc/passwd").
func walkLayer(upper string, fn func(p, rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, upper), "/")
		if rel == "/" {
			return nil
		}
		return fn(p, rel, d)
	})
}

// Markers walks the layer folder upper and returns its whiteouts and
// opaque directories, sorted by path: what a commit turns into ".wh."
// entries.
func Markers(upper string) ([]Marker, error) {
	var out []Marker
	err := walkLayer(upper, func(p, rel string, d fs.DirEntry) error {
		if d.IsDir() {
			opaque, err := IsOpaque(p)
			if err != nil {
				return err
			}
			if opaque {
				out = append(out, Marker{MarkerOpaque, rel})
			}
			return nil
		}
		if d.Type()&fs.ModeCharDevice != 0 {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if IsWhiteout(fi) {
				out = append(out, Marker{MarkerWhiteout, rel})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk upper dir %s: %w", upper, err)
	}
	return out, nil
}

// ChangeKind is the letter docker diff prints.
type ChangeKind byte

const (
	Modified ChangeKind = 'C'
	Added    ChangeKind = 'A'
	Deleted  ChangeKind = 'D'
)

// Change is one line of docker diff.
type Change struct {
	Kind ChangeKind
	Path string
}

func (c Change) String() string { return string(c.Kind) + " " + c.Path }

// Diff returns what the upper layer changed compared with the lower layers
// (top-first), in docker diff's terms, sorted by path as Docker sorts
// changes:
//
//	A /path   added: in upper, not in the lower layers
//	C /path   changed: in both, with different type, mode, owner, size or
//	          mtime; and every directory holding another change
//	D /path   deleted: a whiteout, or a lower entry hidden by an opaque
//	          directory (only the top of a deleted tree is listed)
//
// This is what docker diff shows for overlay2, which since Docker 18.06
// compares the container's view with the image's rather than trusting
// opaque markers (a new directory may be marked opaque too, and was then
// listed as deleted: moby#37880). With no lower layers, everything in
// upper is A and every whiteout D.
func Diff(upper string, lower []string) ([]Change, error) {
	for _, l := range lower {
		if !filepath.IsAbs(l) {
			return nil, &Error{Err: fmt.Errorf("diff: lower dir %q is not an absolute path", l),
				Hint: "a bare short link name comes from a mount(2) with short links: give the link folder (--links DIR)"}
		}
	}
	changes := map[string]ChangeKind{}
	err := walkLayer(upper, func(p, rel string, d fs.DirEntry) error {
		fi, err := d.Info()
		if err != nil {
			return err
		}
		below, belowDirs, err := lowerResolve(lower, rel)
		if err != nil {
			return err
		}
		switch {
		case IsWhiteout(fi):
			if below != nil || len(lower) == 0 {
				changes[rel] = Deleted
			}
		case below == nil:
			changes[rel] = Added
		case statDifferent(below, fi):
			changes[rel] = Modified
		}
		if fi.IsDir() && below != nil && below.IsDir() {
			opaque, err := IsOpaque(p)
			if err != nil {
				return err
			}
			if opaque {
				return hiddenByOpaque(changes, p, rel, belowDirs)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff upper dir %s: %w", upper, err)
	}
	// A directory holding a change is itself changed (Docker lists it so
	// that a layer made from the changes restores its permissions).
	for p := range changes {
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			if _, ok := changes[dir]; !ok {
				changes[dir] = Modified
			}
		}
	}
	out := make([]Change, 0, len(changes))
	for p, k := range changes {
		out = append(out, Change{k, p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// hiddenByOpaque records as deleted what the lower layers hold in the
// directory rel that an opaque upper directory (upperDir) hides.
func hiddenByOpaque(changes map[string]ChangeKind, upperDir, rel string, belowDirs []string) error {
	names, err := lowerNames(belowDirs, rel)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(upperDir, name)); errors.Is(err, fs.ErrNotExist) {
			changes[path.Join(rel, name)] = Deleted
		} else if err != nil {
			return err
		}
	}
	return nil
}

// lowerResolve looks rel up in the lower layers the way overlay does, one
// path component at a time: the topmost layer holding a name wins; a
// whiteout, a non-directory or an opaque directory stops the search in the
// layers below. It returns what the lower layers show at rel (nil when
// nothing) and, when that is a directory, the layers merged into it.
func lowerResolve(lower []string, rel string) (fs.FileInfo, []string, error) {
	layers := lower
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	for i := range parts {
		q := filepath.Join(parts[:i+1]...)
		var top fs.FileInfo
		var merged []string
		for _, layer := range layers {
			fi, err := os.Lstat(filepath.Join(layer, q))
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if IsWhiteout(fi) {
				break
			}
			if top == nil {
				top = fi
			}
			if !fi.IsDir() || !top.IsDir() {
				break
			}
			merged = append(merged, layer)
			opaque, err := IsOpaque(filepath.Join(layer, q))
			if err != nil {
				return nil, nil, err
			}
			if opaque {
				break
			}
		}
		if top == nil || (i < len(parts)-1 && !top.IsDir()) {
			return nil, nil, nil
		}
		if i == len(parts)-1 {
			return top, merged, nil
		}
		layers = merged
	}
	return nil, nil, nil
}

// lowerNames lists the directory rel as the merged lower layers show it:
// the union of the layers' entries, minus names whited out higher up.
func lowerNames(layers []string, rel string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, layer := range layers {
		entries, err := os.ReadDir(filepath.Join(layer, rel))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			fi, err := e.Info()
			if err != nil {
				return nil, err
			}
			if !IsWhiteout(fi) {
				names = append(names, e.Name())
			}
		}
	}
	return names, nil
}

// statDifferent is Docker's test for a changed entry: type and mode,
// owner, device number, and for non-directories size and mtime (a
// directory's own mtime changes with every entry added or removed, so it
// says nothing).
func statDifferent(old, new fs.FileInfo) bool {
	o, ok1 := old.Sys().(*syscall.Stat_t)
	n, ok2 := new.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return true
	}
	if o.Mode != n.Mode || o.Uid != n.Uid || o.Gid != n.Gid || o.Rdev != n.Rdev {
		return true
	}
	if old.IsDir() {
		return false
	}
	return o.Size != n.Size || !sameTime(o.Mtim, n.Mtim)
}

// sameTime compares mtimes as Docker does: tar keeps whole seconds, so a
// zero nanosecond part on either side matches any.
func sameTime(a, b syscall.Timespec) bool {
	return a.Sec == b.Sec && (a.Nsec == b.Nsec || a.Nsec == 0 || b.Nsec == 0)
}
