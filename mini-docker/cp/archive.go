package cp

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/pull/store"
	"mini-docker/pull/unpack"
)

// Every path cp touches is resolved by the kernel relative to a root
// descriptor (the container's merged root, a volume's folder, or the
// host's /) with openat2(2) RESOLVE_IN_ROOT, as pull's unpack resolves
// a layer's names: "..", absolute symlinks and symlinks to ".." all stop
// at the root. docker cp once resolved the path first and used it
// after, and a container swapping a folder for a symlink in between got
// the daemon, as root, to read or write any host file (CVE-2018-15664).
// Here each step after the resolution works on the descriptor it gave,
// and each name below it is opened with O_NOFOLLOW.

// inRoot is RESOLVE_IN_ROOT without the /proc magic links.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openIn opens rel inside the root rootfd.
func openIn(rootfd int, rel string, flags int) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(rootfd, rel, &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: inRoot})
}

// openEntry opens base in the folder pfd without following a symlink.
func openEntry(pfd int, base string) (int, unix.Stat_t, error) {
	return openTwice(func(flags int) (int, error) {
		return unix.Openat(pfd, base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
}

// openTwice opens an entry with open: as O_PATH to learn what it is
// without opening a device or a fifo, then, for a regular file or a
// folder, again for reading. The stat is of the descriptor returned,
// and the inode must be the same both times: what is read is what was
// checked.
func openTwice(open func(flags int) (int, error)) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := open(unix.O_PATH)
	if err != nil {
		return -1, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
		return fd, st, nil
	}
	unix.Close(fd)
	ino := st.Ino
	if fd, err = open(unix.O_RDONLY | unix.O_NONBLOCK); err != nil {
		return -1, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != ino {
		unix.Close(fd)
		return -1, st, fmt.Errorf("changed while it was opened: %w", unix.ESTALE)
	}
	return fd, st, nil
}

// writeTree writes the entry fd (opened by openEntry, closed here) to
// tw as name, and for a folder everything below it.
func writeTree(tw *tar.Writer, fd int, st unix.Stat_t, name string) error {
	defer unix.Close(fd)
	hdr := &tar.Header{Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()), Format: tar.FormatPAX}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return fmt.Errorf("readlink %s: %w", name, err)
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(buf[:n])
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil // a socket: tar has no word for it
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		_, err := io.CopyN(tw, fdReader(fd), st.Size)
		return err
	case tar.TypeDir:
		return writeChildren(tw, fd, name)
	}
	return nil
}

// fdReader reads fd without taking it over (os.File would close it).
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	n, err := unix.Read(int(r), p)
	if n == 0 && err == nil && len(p) > 0 {
		return 0, io.EOF
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

// writeChildren writes every entry of the folder fd.
func writeChildren(tw *tar.Writer, fd int, name string) error {
	dfd, err := unix.Dup(fd)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(dfd), name)
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("list %s: %w", name, err)
	}
	for _, n := range names {
		cfd, st, err := openEntry(fd, n)
		if errors.Is(err, unix.ENOENT) {
			continue // gone meanwhile
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", path.Join(name, n), err)
		}
		if err := writeTree(tw, cfd, st, path.Join(name, n)); err != nil {
			return err
		}
	}
	return nil
}

// extractor writes a tar stream below the folder dir of the root rootfd.
type extractor struct {
	rootfd int
	dir    string              // the folder, relative to the root
	rename func(string) string // an entry's name in the archive → in dir
	keepID bool                // -a: the archive's owners; else root's
	times  []dirTime
	charge func(n int64) error // the destination's disk reserve (checkReserve)
	pfd    int                 // the folder the entry being made goes in
}

type dirTime struct {
	rel string
	mt  time.Time
}

// extract reads r and creates its entries.
func (x *extractor) extract(r io.Reader) error {
	x.charge = store.EveryAfter(x.checkReserve)
	if err := unpack.Each(r, x.entry); err != nil {
		return err
	}
	for i := len(x.times) - 1; i >= 0; i-- {
		t := x.times[i]
		if fd, err := openIn(x.rootfd, t.rel, unix.O_PATH|unix.O_DIRECTORY); err == nil {
			setTimes(fmt.Sprintf("/proc/self/fd/%d", fd), t.mt)
			unix.Close(fd)
		}
	}
	return nil
}

// cleanName is an archive's entry name relative to its top, refusing
// absolute names and ".." that climbs out.
func cleanName(name string) (string, error) {
	clean, err := unpack.EntryName(name)
	if err != nil {
		return "", fmt.Errorf("archive entry %q: outside the destination", name)
	}
	return clean, nil
}

// entry creates one archive entry.
func (x *extractor) entry(hdr *tar.Header, content io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	rel := path.Join(x.dir, x.rename(name))
	if rel == x.dir || rel == "." {
		return nil // the destination folder itself
	}
	parent, base := path.Split(rel)
	pfd, err := x.mkdirAll(path.Clean("./" + parent))
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	x.pfd = pfd
	if err := x.charge(unpack.EntryCost); err != nil {
		return err
	}
	if err := x.make(pfd, base, hdr, content); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	uid, gid := 0, 0
	if x.keepID {
		uid, gid = hdr.Uid, hdr.Gid
	}
	if err := x.setMetadata(pfd, base, hdr, uid, gid); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if hdr.Typeflag == tar.TypeDir {
		x.times = append(x.times, dirTime{rel, hdr.ModTime})
	}
	return nil
}

// setMetadata gives the entry just made its owner, mode and time,
// through a descriptor of it (O_NOFOLLOW): a running container that
// swaps it for a symlink meanwhile gets its own symlink changed, never
// what it points to. The mode and time go through /proc/self/fd/N,
// which names the descriptor's own inode.
func (x *extractor) setMetadata(pfd int, base string, hdr *tar.Header, uid, gid int) error {
	fd, err := unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	self := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Chmod(self, uint32(hdr.Mode&0o7777)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return setTimes(self, hdr.ModTime)
}

func setTimes(p string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, 0)
}

// make creates base in pfd as hdr says, replacing what is there unless
// both are folders.
func (x *extractor) make(pfd int, base string, hdr *tar.Header, content io.Reader) error {
	var st unix.Stat_t
	if unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
		if hdr.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return nil
		}
		if mountRoot(pfd, base) {
			// A file or folder mounted there in the container (a bind):
			// unlinked from the host's namespace, its mount would go.
			return fmt.Errorf("unlinkat: %w", unix.EBUSY)
		}
		flag := 0
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			flag = unix.AT_REMOVEDIR
		}
		if err := unix.Unlinkat(pfd, base, flag); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return unix.Mkdirat(pfd, base, 0o700)
	case tar.TypeReg:
		fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), base)
		_, err = io.Copy(unpack.ChargedWriter{W: f, Charge: x.charge}, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			unix.Unlinkat(pfd, base, 0) // no half-written file
		}
		return err
	case tar.TypeSymlink:
		return unix.Symlinkat(hdr.Linkname, pfd, base)
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return err
		}
		tfd, err := openIn(x.rootfd, path.Join(x.dir, x.rename(target)), unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			return fmt.Errorf("hard link to %s: %w", hdr.Linkname, err)
		}
		defer unix.Close(tfd)
		return unix.Linkat(tfd, "", pfd, base, unix.AT_EMPTY_PATH)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		return unix.Mknodat(pfd, base, mode|0o600, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
	}
	return fmt.Errorf("archive entry %q: type %q not supported", hdr.Name, hdr.Typeflag)
}

// mountRoot reports whether base in the folder pfd is the root of a
// mount, as seen from pfd's mount namespace (a running container's).
func mountRoot(pfd int, base string) bool {
	var stx unix.Statx_t
	if unix.Statx(pfd, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx) != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// checkReserve keeps store.DefaultReserve percent of the destination's
// filesystem free, as a pull or load keeps the store's: a sparse entry
// of a few bytes in the archive writes gigabytes of zeros.
func (x *extractor) checkReserve(ahead int64) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(x.pfd, &st); err != nil {
		return fmt.Errorf("statfs the destination: %w", err)
	}
	return store.ReserveLeft(&st, store.DefaultReserve, ahead, "the destination")
}

// mkdirAll opens the folder rel inside the root, making what is
// missing (0755, as tar does).
func (x *extractor) mkdirAll(rel string) (int, error) {
	fd, err := openIn(x.rootfd, rel, unix.O_PATH|unix.O_DIRECTORY)
	if err == nil || !errors.Is(err, unix.ENOENT) || rel == "." {
		return fd, err
	}
	parent, base := path.Split(rel)
	pfd, err := x.mkdirAll(path.Clean("./" + parent))
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return unix.Openat(pfd, base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}
