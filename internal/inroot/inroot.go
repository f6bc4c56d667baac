// Package inroot opens a file of a root filesystem the way a process
// chrooted there would: its path, symbolic links included (absolute ones
// too), resolved by the kernel inside the root (openat2(2)
// RESOLVE_IN_ROOT), so a link in an image or a build context to a host
// file reads the root's own file of that name, never the host's. It
// belongs to no one lesson: capctl (lesson 06) reads an image's
// /etc/passwd with it, the API's build (lesson 14) a context's
// Dockerfile.
package inroot

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is a name that is not a regular file: a fifo would block
// its reader, a device be opened on the host.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens name (relative to root) for reading, resolved inside
// root, and refuses anything but a regular file. In the process's own
// root ("/"), where nothing resolves outside anyway, an openat2 refused
// (ENOSYS, or EPERM from a seccomp profile that lacks it) falls back to
// openat. Errors are the kernel's (ENOENT for a missing file) or
// ErrNotRegular.
func OpenRegular(root, name string) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	fd, err := unix.Openat2(dir, name, &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)) && filepath.Clean(root) == "/" {
		fd, err = unix.Openat(dir, name, flags, 0)
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), filepath.Join(root, name))
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotRegular
	}
	return f, nil
}
