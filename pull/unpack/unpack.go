// Package unpack writes one image layer (a tar stream) into its own
// directory, in the form overlayfs wants for a lowerdir.
//
// A layer is a tar archive of the files that changed. Deletions are
// marked by "whiteout" files (the OCI image spec, layer.md):
//
//	.wh.NAME        NAME was deleted     → overlay: a 0/0 character device NAME
//	.wh..wh..opq    the directory is opaque (lower layers' content hidden)
//	                                     → overlay: xattr trusted.overlay.opaque=y
//
// A layer comes from the network, so every name in it is hostile until
// proven otherwise: "../../etc/passwd", "/etc/passwd", a symlink
// "x -> /etc" followed by a file "x/passwd", a hardlink to "../../secret".
// Every path is resolved by the kernel with openat2(2) RESOLVE_IN_ROOT,
// which treats the layer directory as "/" for "..", absolute paths and
// symlinks alike; names that try to leave are refused outright.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package unpack

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrOutsideRoot is returned for a layer entry that names, links to, or
// writes through a path outside the layer's root.
var ErrOutsideRoot = errors.New("resolves outside the layer root")

// Whiteout markers of the OCI image spec.
const (
	WhiteoutPrefix = ".wh."
	WhiteoutOpaque = ".wh..wh..opq"
	// WhiteoutMetaPrefix starts the names AUFS kept for itself.
	WhiteoutMetaPrefix = ".wh..wh."
	// OpaqueXattr is how overlayfs marks a directory that hides the
	// directories of the same name in lower layers.
	OpaqueXattr = "trusted.overlay.opaque"
)

// Unpack reads the layer tar stream r and recreates it in dir, which must
// exist (and should be empty). It stops at the end of the tar archive;
// the caller drains r if it needs every byte (to hash it).
func Unpack(r io.Reader, dir string) error { return UnpackCharged(r, dir, nil) }

// EntryCost is what each tar entry is charged besides its content: a
// header is 512 bytes, and it takes an inode and a name on disk.
const EntryCost = 512

// UnpackCharged is Unpack with a budget: charge(n) is called before n
// bytes of the layer are written (file contents, chunk by chunk, and
// EntryCost per entry), and an error from it stops the unpacking. A
// layer's size on disk is not its tar's: a sparse entry of a few bytes
// writes gigabytes of zeros, so the bytes are counted as written.
func UnpackCharged(r io.Reader, dir string, charge func(n int64) error) error {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open layer root %s: %w", dir, err)
	}
	if charge == nil {
		charge = func(int64) error { return nil }
	}
	u := &unpacker{root: root, dir: dir, buf: make([]byte, 256<<10), created: map[string]bool{}, charge: charge}
	defer u.close()

	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read layer tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
	}
	// Directory mtimes last: creating their children changed them.
	for _, d := range u.dirTimes {
		if err := u.setTimes(d.name, d.hdr); err != nil {
			return err
		}
	}
	return nil
}

type unpacker struct {
	root     int    // O_PATH fd of the layer root: every lookup starts here
	dir      string // its path, for messages
	buf      []byte
	dirTimes []dirTime
	created  map[string]bool // names this layer wrote
	charge   func(n int64) error

	// The parent directory of the previous entry, kept open: tar streams
	// list a directory's files together.
	lastParent   string
	lastParentFd int
}

type dirTime struct {
	name string
	hdr  *tar.Header
}

func (u *unpacker) close() {
	u.forgetParent()
	unix.Close(u.root)
}

func (u *unpacker) forgetParent() {
	if u.lastParent != "" {
		unix.Close(u.lastParentFd)
		u.lastParent = ""
	}
}

// entry applies one tar header (and its content) to the layer directory.
func (u *unpacker) entry(hdr *tar.Header, content io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if err := u.charge(EntryCost); err != nil {
		return fmt.Errorf("layer entry %q: %w", name, err)
	}
	if name == "." {
		return nil // the root itself: its metadata belongs to the store
	}
	parent, base := path.Split(name)
	parent = path.Clean("./" + parent)
	if strings.Contains("/"+parent+"/", "/"+WhiteoutMetaPrefix) || (strings.HasPrefix(base, WhiteoutMetaPrefix) && base != WhiteoutOpaque) {
		return nil // AUFS bookkeeping (.wh..wh.plnk/…, .wh..wh.aufs): not content
	}
	pfd, err := u.parent(parent, name)
	if err != nil {
		return err
	}

	if base == WhiteoutOpaque || strings.HasPrefix(base, WhiteoutPrefix) {
		return u.whiteout(pfd, parent, base, name)
	}

	// A later entry for the same name replaces the earlier one (a
	// directory stays a directory, keeping its children).
	var st unix.Stat_t
	exists := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	if exists && !(hdr.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		if err := u.remove(pfd, base); err != nil {
			return wrap(name, "replace", err)
		}
		exists = false
	}

	u.created[name] = true
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
				return wrap(name, "mkdir", err)
			}
		}
	//lint:ignore SA1019 old archives still carry '\x00' for a regular file, and archive/tar passes it through
	case tar.TypeReg, tar.TypeRegA:
		if err := u.writeFile(pfd, base, content); err != nil {
			return wrap(name, "write", err)
		}
	case tar.TypeSymlink:
		// The target is stored as is, wherever it points: a symlink is only
		// dangerous when followed, and we never follow one.
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return wrap(name, "symlink", err)
		}
	case tar.TypeLink:
		return u.hardlink(pfd, base, name, hdr.Linkname) // it shares the target's inode and metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, typ|mode, int(dev)); err != nil {
			return wrap(name, "mknod", err)
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("layer entry %q: unsupported tar entry type %q", name, hdr.Typeflag)
	}
	return u.setMetadata(pfd, base, name, hdr)
}

// whiteout turns an OCI whiteout entry into what overlayfs reads: an
// opaque directory, or a 0/0 character device where a file was.
func (u *unpacker) whiteout(pfd int, parent, base, name string) error {
	if base == WhiteoutOpaque {
		// The directory is opaque: overlay will not look below it. (Setxattr,
		// not Lsetxattr: the /proc/self/fd link must be followed to the dir.)
		return wrap(name, "setxattr "+OpaqueXattr, unix.Setxattr(procPath(pfd, ""), OpaqueXattr, []byte("y"), 0))
	}
	target := strings.TrimPrefix(base, WhiteoutPrefix)
	if !isName(target) {
		// ".wh.." would remove the layer's parent folder (".." of it).
		return fmt.Errorf("layer entry %q: whiteout of %q: %w", name, target, ErrOutsideRoot)
	}
	if u.created[path.Join(parent, target)] {
		// A whiteout hides only what lower layers hold; the file this
		// layer itself wrote hides them already.
		return nil
	}
	if err := u.remove(pfd, target); err != nil {
		return wrap(name, "remove "+target, err)
	}
	// A character device with device number 0/0 is overlay's whiteout.
	return wrap(name, "mknod whiteout", unix.Mknodat(pfd, target, unix.S_IFCHR, 0))
}

// hardlink links name (base in the directory pfd) to linkname, an
// earlier entry of the layer, never following a symlink on the way.
func (u *unpacker) hardlink(pfd int, base, name, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("layer entry %q: hardlink: %w", name, err)
	}
	tparent, tbase := path.Split(target)
	tfd, err := u.openDir(path.Clean("./"+tparent), name)
	if err != nil {
		return err
	}
	err = unix.Linkat(tfd, tbase, pfd, base, 0) // 0: never follow a symlink target
	unix.Close(tfd)
	if err != nil {
		return wrap(name, "link to "+target, err)
	}
	return nil
}

// setMetadata applies owner, mode, xattrs and times, in the order the
// kernel needs: chown clears set-uid bits and file capabilities, so mode
// and xattrs come after it.
func (u *unpacker) setMetadata(pfd int, base, name string, hdr *tar.Header) error {
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return wrap(name, "chown", err)
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode&0o7777), 0); err != nil {
			return wrap(name, "chmod", err)
		}
	}
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(attr, "trusted.overlay.") {
			continue // overlay's own attributes come only from whiteouts
		}
		if err := unix.Lsetxattr(procPath(pfd, base), attr, []byte(value), 0); err != nil {
			return wrap(name, "setxattr "+attr, err)
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		u.dirTimes = append(u.dirTimes, dirTime{name, hdr})
		return nil
	}
	return wrap(name, "set times", utimes(pfd, base, hdr))
}

func (u *unpacker) setTimes(name string, hdr *tar.Header) error {
	parent, base := path.Split(name)
	pfd, err := u.openDir(path.Clean("./"+parent), name)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	return wrap(name, "set times", utimes(pfd, base, hdr))
}

func utimes(pfd int, base string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func timespec(t time.Time) unix.Timespec {
	ts, _ := unix.TimeToTimespec(t)
	return ts
}

// writeFile creates a new regular file: O_EXCL|O_NOFOLLOW, so an
// existing name (a planted symlink) can never redirect the write.
func (u *unpacker) writeFile(pfd int, base string, content io.Reader) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	_, err = io.CopyBuffer(ChargedWriter{f, u.charge}, content, u.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ChargedWriter charges every write to Charge before it makes it on W;
// an error from Charge stops the write.
type ChargedWriter struct {
	W      io.Writer
	Charge func(n int64) error
}

func (c ChargedWriter) Write(p []byte) (int, error) {
	if err := c.Charge(int64(len(p))); err != nil {
		return 0, err
	}
	return c.W.Write(p)
}

// remove deletes base in the directory pfd, recursively for a directory.
func (u *unpacker) remove(pfd int, base string) error {
	if !isName(base) {
		return fmt.Errorf("remove %q: not a name in its folder: %w", base, ErrOutsideRoot)
	}
	err := unix.Unlinkat(pfd, base, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		return os.RemoveAll(procPath(pfd, base))
	}
	return err
}

// isName reports whether base names an entry of its folder: not empty,
// ".", ".." or a path.
func isName(base string) bool {
	return base != "" && base != "." && base != ".." && !strings.Contains(base, "/")
}

// parent returns an fd for the directory that will hold entry, creating
// missing directories. The fd stays owned by the cache.
func (u *unpacker) parent(dir, entry string) (int, error) {
	if u.lastParent == dir {
		return u.lastParentFd, nil
	}
	fd, err := u.openDir(dir, entry)
	if err != nil {
		return -1, err
	}
	u.forgetParent()
	u.lastParent, u.lastParentFd = dir, fd
	return fd, nil
}

// openDir resolves dir inside the layer root, creating what is missing.
//
// RESOLVE_IN_ROOT makes the kernel treat the layer root as "/" for every
// step: ".." stops at it and an absolute symlink restarts from it, so the
// result is always inside. When the name does not exist, RESOLVE_BENEATH
// tells us why: EXDEV means a symlink on the way points out of the layer,
// and writing "through" it is refused.
func (u *unpacker) openDir(dir, entry string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(u.root, dir, &how)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) || dir == "." {
		return -1, fmt.Errorf("layer entry %q: open %s in %s: %w", entry, dir, u.dir, err)
	}
	beneath := how
	beneath.Resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS
	if fd, err := unix.Openat2(u.root, dir, &beneath); errors.Is(err, unix.EXDEV) {
		return -1, fmt.Errorf("layer entry %q: writes through a symlink in %q: %w", entry, dir, ErrOutsideRoot)
	} else if err == nil {
		unix.Close(fd)
	}
	// Missing: make the parent first, then this directory (0755 root:root,
	// as tar does; a later entry for it sets the real metadata).
	parent, base := path.Split(dir)
	pfd, err := u.openDir(path.Clean("./"+parent), entry)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("layer entry %q: %s is a dangling symlink: %w", entry, dir, ErrOutsideRoot)
		}
		return -1, wrap(entry, "mkdir "+dir, err)
	}
	fd, err = unix.Openat2(pfd, base, &unix.OpenHow{Flags: how.Flags, Resolve: unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return -1, wrap(entry, "open "+dir, err)
	}
	return fd, nil
}

// cleanName turns a tar name into a clean path relative to the layer
// root, refusing absolute names and ".." that climbs out.
func cleanName(name string) (string, error) {
	clean, err := EntryName(name)
	if err != nil {
		return "", fmt.Errorf("layer entry %q: %w", name, err)
	}
	return clean, nil
}

// EntryName turns a tar entry's name into a clean path relative to the
// archive's top. It refuses, with an error that wraps ErrOutsideRoot, an
// absolute name and one whose ".." climbs out: an archive is untrusted
// input, and joined to a folder such a name would land outside it.
func EntryName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path: %w", ErrOutsideRoot)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("\"..\" climbs out: %w", ErrOutsideRoot)
	}
	return clean, nil
}

// Each calls fn on each entry of the tar stream r in order, with the
// entry's content to read, until the stream ends (nil) or reading it or
// fn fails (that error, as it is).
func Each(r io.Reader, fn func(hdr *tar.Header, content io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(hdr, tr); err != nil {
			return err
		}
	}
}

// procPath names base inside the directory fd through /proc/self/fd:
// the kernel resolves the fd itself (no path walk), and only base is
// looked up, without following it for the l* calls.
func procPath(fd int, base string) string {
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	if base != "" {
		p += "/" + base
	}
	return p
}

func wrap(name, what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("layer entry %q: %s: %w", name, what, err)
}
