package cp

import (
	"archive/tar"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

// The Engine API's side of docker cp (mini-docker/api/contents): the
// docker CLI does the host's half itself and sends or receives a tar
// stream; the engine stats, archives or extracts a path inside the
// container, through the same root resolution as `mini-docker cp`.

// NotFoundError is a path that is not in the container (404 in the API).
type NotFoundError struct{ error }

// Unwrap returns the error with Docker's words.
func (e *NotFoundError) Unwrap() error { return e.error }

// Stat is what the API says of a container's path before its archive
// (docker cp's X-Docker-Container-Path-Stat header).
type Stat struct {
	Name       string
	Size       int64
	Mode       os.FileMode
	Mtime      time.Time
	LinkTarget string
}

// Archive stats the path p in ct (its root mounted afresh when it is
// stopped) and calls stat with what it found, before anything is
// written; then, when w is not nil, writes p to w as a tar stream
// named by its last name (SRC/. : what is in it), as `cp CONTAINER:SRC -`.
func Archive(e *engine.Engine, ct *container.Container, p string, stat func(Stat), w io.Writer) error {
	from, release, err := openContainer(e, ct, strings.TrimPrefix(ct.Name, "/"), p)
	if err != nil {
		return err
	}
	defer release()
	fd, st, err := openSource(from, p, false)
	if err != nil {
		return err
	}
	stat(statOf(fd, st, p))
	if w == nil {
		unix.Close(fd)
		return nil
	}
	tw := tar.NewWriter(w)
	if err := writeTree(tw, fd, st, topName(p)); err != nil {
		return err
	}
	return tw.Close()
}

// statOf turns a stat into the API's words: Go's file mode bits, and
// the target of a symlink (read through its O_PATH descriptor).
func statOf(fd int, st unix.Stat_t, p string) Stat {
	s := Stat{Name: path.Base(path.Clean("/" + p)), Size: st.Size, Mode: os.FileMode(st.Mode & 0o777),
		Mtime: time.Unix(st.Mtim.Unix())}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		s.Mode |= os.ModeDir
	case unix.S_IFLNK:
		s.Mode |= os.ModeSymlink
		buf := make([]byte, unix.PathMax)
		if n, err := unix.Readlinkat(fd, "", buf); err == nil {
			s.LinkTarget = string(buf[:n])
		}
	case unix.S_IFCHR:
		s.Mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		s.Mode |= os.ModeDevice
	case unix.S_IFIFO:
		s.Mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		s.Mode |= os.ModeSocket
	}
	if st.Mode&unix.S_ISUID != 0 {
		s.Mode |= os.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		s.Mode |= os.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		s.Mode |= os.ModeSticky
	}
	return s
}

// Extract unpacks the tar stream r into the folder dir of ct, which must
// exist, as `cp - CONTAINER:DIR` (owners as the archive says).
func Extract(e *engine.Engine, ct *container.Container, dir string, r io.Reader) error {
	to, release, err := openContainer(e, ct, strings.TrimPrefix(ct.Name, "/"), dir)
	if err != nil {
		return err
	}
	defer release()
	return extractInto(r, to, dir)
}

// openContainer opens the root that holds p in ct (mounted afresh when
// ct is stopped), and returns how to let it go; name is what errors
// call ct (what the user typed).
func openContainer(e *engine.Engine, ct *container.Container, name, p string) (side, func(), error) {
	rfs, err := mountContainer(e, ct)
	if err != nil {
		return side{}, nil, err
	}
	s, err := containerSide(rfs, name, p)
	if err == nil {
		if err = rfs.Detach(e.Explain); err != nil {
			unix.Close(s.rootfd)
		}
	}
	if err != nil {
		rfs.Release()
		return side{}, nil, err
	}
	return s, func() { unix.Close(s.rootfd); rfs.Release() }, nil
}
