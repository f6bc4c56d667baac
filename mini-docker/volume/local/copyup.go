package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// CopyUp fills an empty volume (its data folder, data) with what the
// container's root (the merged overlay, root) holds at target, as
// Docker does the first time a volume is mounted over image content:
// files, folders, links, owners, modes and times, and the folder's own
// owner and mode. A volume that holds anything already is left alone,
// so it happens once. The container is not running yet, and target is
// resolved inside root (a symlink in the image cannot lead outside it).
func (s *Store) CopyUp(root, target, data string) error {
	ents, err := os.ReadDir(data)
	if err != nil || len(ents) > 0 {
		return err
	}
	src, err := securejoin.SecureJoin(root, target)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if errors.Is(err, os.ErrNotExist) || err == nil && !fi.IsDir() {
		return nil
	}
	if err != nil {
		return err
	}
	s.Explain.Argv("cp", "-a", src+"/.", data+"/")
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		return copyEntry(p, filepath.Join(data, rel), rel == ".")
	})
	if err != nil {
		return fmt.Errorf("copy %s into the volume: %w", target, err)
	}
	return nil
}

// copyEntry copies one file, folder, link or node from src to dst with
// its metadata (dst exists already when top is set: the volume itself).
func copyEntry(src, dst string, top bool) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	switch {
	case top:
	case fi.IsDir():
		err = os.Mkdir(dst, 0o700)
	case fi.Mode()&os.ModeSymlink != 0:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	case fi.Mode().IsRegular():
		err = copyFile(src, dst)
	default: // devices, fifos, sockets
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return err
	}
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
