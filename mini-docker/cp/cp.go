// Package cp is `mini-docker cp`, Docker's copy between a container's
// files and the host's, both ways, or as a tar archive on stdin or
// stdout ("-"). A running container's files are its own view of its
// root (/proc/PID/root of its first process: its mounts included, each
// path resolved as in the container); a stopped container's are its
// layers mounted afresh and, below a volume's or bind's mount point,
// that folder on the host. Paths are resolved inside those roots by the
// kernel (archive.go), safe against the symlink race of CVE-2018-15664.
//
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package cp

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
)

const tool = "mini-docker cp"

// Command runs `mini-docker cp [-a] [-L] SRC DST` on state root root.
func Command(root string, args []string) error {
	f := cli.NewFlags(cli.Command{Tool: tool, Usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       mini-docker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Summary: "Copy files between a container and the host. '-' is a tar archive on stdout (from a container) or stdin (into one).\n" +
			"A folder is copied with everything in it; SRC_PATH ending in /. copies only what is in it.",
		Examples:     []string{"mini-docker cp demo:/etc/hostname .", "mini-docker cp ./site demo:/srv/", "mini-docker cp demo:/var/log - | tar -tv"},
		Interspersed: true})
	archive := f.BoolP("archive", "a", false, "archive mode (copy all uid/gid information)")
	follow := f.BoolP("follow-link", "L", false, "always follow symbol link in SRC_PATH")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() != 2 {
		return cli.Usagef(tool, "\"mini-docker cp\" requires exactly 2 arguments")
	}
	srcCtr, srcPath := split(f.Arg(0))
	dstCtr, dstPath := split(f.Arg(1))
	e, err := engine.NewEngine(root)
	if err != nil {
		return err
	}
	e.Explain = f.Explainer()
	var cerr error
	switch {
	case srcCtr == "" && dstCtr == "":
		cerr = errors.New("must specify at least one container source")
	case srcCtr != "" && dstCtr != "":
		cerr = errors.New("copying between containers is not supported")
	case srcCtr != "":
		cerr = copyContainer(e, srcCtr, srcPath, dstPath, false, *archive, *follow)
	default:
		cerr = copyContainer(e, dstCtr, dstPath, srcPath, true, *archive, *follow)
	}
	return cli.WithCode(cerr, 1)
}

// split reads CONTAINER:PATH (Docker's splitCpArg): a path that is
// absolute, or starts with ".", is the host's even with a colon in it.
func split(arg string) (ctr, p string) {
	if filepath.IsAbs(arg) || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	c, rest, ok := strings.Cut(arg, ":")
	if !ok || c == "" {
		return "", arg
	}
	return c, rest
}

// side is one end of a copy: a root descriptor, a path inside it, and
// how to name it in messages.
type side struct {
	rootfd   int
	rel      string
	notFound func(p string) error
	// bound: rel is a file bound from the host over the container's
	// path (a stopped container's -v FILE:PATH), which a copy cannot
	// replace, as the bind in a running container cannot be.
	bound bool
}

// hostSide is a host path: the root is the host's /.
func hostSide(p string) (side, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return side{}, err
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	return side{rootfd: fd, rel: strings.TrimPrefix(abs, "/"),
		notFound: func(p string) error { return fmt.Errorf("lstat %s: no such file or directory", p) }}, err
}

// containerSide opens the root that holds p in the container: a running
// one's own view of its root (container.OpenProcRoot); for a stopped one
// its merged root, or the host folder of the volume or bind whose mount
// point is the longest prefix of p.
func containerSide(rfs *rootFS, name, p string) (side, error) {
	p = path.Clean("/" + p)
	notFound := func(q string) error {
		//lint:ignore ST1005 Docker's own words, as docker prints them
		return &NotFoundError{fmt.Errorf("Could not find the file %s in container %s", q, name)}
	}
	if rfs.Pid > 0 {
		// Running: its own view, each path resolved as in the container.
		fd, err := container.OpenProcRoot(rfs.Pid, rfs.PidStart)
		if err != nil {
			return side{}, fmt.Errorf("open the root of %s: %w", name, err)
		}
		return side{rootfd: fd, rel: strings.TrimPrefix(p, "/"), notFound: notFound}, nil
	}
	root, rel := rfs.Merged, p
	best := ""
	for _, mp := range rfs.Mounts {
		d := path.Clean(mp.Destination)
		if mp.Type == "tmpfs" || len(d) <= len(best) || p != d && !strings.HasPrefix(p, d+"/") {
			continue
		}
		best, root, rel = d, mp.Source, strings.TrimPrefix(p, d)
	}
	bound := false
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		// A file bound over the root's (/etc/hosts): its folder is the root.
		root, rel, bound = filepath.Dir(root), filepath.Base(root)+rel, true
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return side{}, fmt.Errorf("open the root of %s: %w", name, err)
	}
	return side{rootfd: fd, rel: strings.TrimPrefix(rel, "/"), notFound: notFound, bound: bound}, nil
}

// copyContainer copies between the path inCtr of container ref and the
// host's path onHost, into the container when toCtr; an onHost of "-"
// is a tar stream on stdin or stdout.
func copyContainer(e *engine.Engine, ref, inCtr, onHost string, toCtr, keepID, follow bool) error {
	ct, err := e.Find(ref)
	if err != nil {
		return err
	}
	ctr, release, err := openContainer(e, ct, ref, inCtr)
	if err != nil {
		return err
	}
	defer release()
	if onHost == "-" && toCtr {
		return extractInto(os.Stdin, ctr, inCtr)
	}
	if onHost == "-" {
		return archiveTo(os.Stdout, ctr, inCtr, follow)
	}
	host, err := hostSide(onHost)
	if err != nil {
		return err
	}
	defer unix.Close(host.rootfd)
	if toCtr {
		return copyBetween(host, onHost, ctr, inCtr, keepID, follow)
	}
	return copyBetween(ctr, inCtr, host, onHost, keepID, follow)
}

// openSource opens the source path: its folder resolved in the root,
// then the last name without following it (with -L, followed, still
// inside the root).
func openSource(s side, shown string, follow bool) (int, unix.Stat_t, error) {
	parent, base := path.Split(s.rel)
	if base == "" || base == "." || follow {
		return openFollowed(s, shown)
	}
	pfd, err := openIn(s.rootfd, parent, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, unix.Stat_t{}, s.notFound(shown)
	}
	defer unix.Close(pfd)
	fd, st, err := openEntry(pfd, base)
	if err != nil {
		return -1, st, s.notFound(shown)
	}
	return fd, st, nil
}

// openFollowed opens the source path following every symlink on the
// way, the last one too, inside the root.
func openFollowed(s side, shown string) (int, unix.Stat_t, error) {
	fd, st, err := openTwice(func(flags int) (int, error) { return openIn(s.rootfd, s.rel, flags) })
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return -1, st, s.notFound(shown)
	}
	return fd, st, err
}

// archiveTo writes the source as a tar stream, named by its last name.
func archiveTo(w io.Writer, from side, shown string, follow bool) error {
	fd, st, err := openSource(from, shown, follow)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := writeTree(tw, fd, st, topName(shown)); err != nil {
		return err
	}
	return tw.Close()
}

// topName is the name a copied path has in the archive: its last name,
// or "." for SRC/. (only what is in it).
func topName(p string) string {
	if strings.HasSuffix(p, "/.") || p == "." {
		return "."
	}
	return path.Base(path.Clean("/" + p))
}

// copyBetween copies src to dst as docker cp does: into dst when it is
// a folder, as dst when it is not there (its folder must be) or is a
// file a file replaces.
func copyBetween(from side, src string, to side, dst string, keepID, follow bool) error {
	fd, st, err := openSource(from, src, follow)
	if err != nil {
		return err
	}
	srcDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	top := topName(src)
	dir, rename, err := destination(to, dst, top, srcDir)
	if err != nil {
		unix.Close(fd)
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := writeTree(tw, fd, st, top)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	x := &extractor{rootfd: to.rootfd, dir: dir, rename: rename, keepID: keepID}
	err = x.extract(pr)
	pr.CloseWithError(err)
	return err
}

// destination decides where the copy goes: the folder to extract into,
// and how the archive's top name (top) is renamed there.
func destination(to side, shown, top string, srcDir bool) (string, func(string) string, error) {
	keep := func(n string) string { return n }
	fd, err := openIn(to.rootfd, to.rel, unix.O_PATH)
	if err == nil {
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		unix.Close(fd)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return to.rel, keep, nil
		}
		if srcDir {
			return "", nil, errors.New("cannot copy a directory to a file")
		}
		if to.bound {
			// The host's file itself: Docker's daemon mounts a stopped
			// container's binds for cp, and unlinking a mount point fails.
			return "", nil, fmt.Errorf("unlinkat: %w", unix.EBUSY)
		}
	} else if errors.Is(err, unix.ENOTDIR) {
		return "", nil, errors.New("extraction point is not a directory")
	} else if !errors.Is(err, unix.ENOENT) {
		return "", nil, err
	} else if strings.HasSuffix(shown, "/") && !srcDir {
		return "", nil, errors.New("no such directory")
	}
	// dst is a file to replace, or a new name: its folder must exist.
	parent, base := path.Split(to.rel)
	pfd, err := openIn(to.rootfd, parent, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) {
			return "", nil, errors.New("extraction point is not a directory")
		}
		return "", nil, to.notFound(path.Dir(path.Clean("/" + shown)))
	}
	unix.Close(pfd)
	return path.Clean("./" + parent), func(n string) string {
		if top == "." {
			return path.Join(base, n)
		}
		if n == top {
			return base
		}
		if strings.HasPrefix(n, top+"/") {
			return base + n[len(top):]
		}
		return n
	}, nil
}

// extractInto unpacks a tar stream from r into the folder dst (cp -
// CONTAINER:DST), which must exist.
func extractInto(r io.Reader, to side, shown string) error {
	fd, err := openIn(to.rootfd, to.rel, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return to.notFound(path.Clean("/" + shown))
	}
	if err != nil {
		return err
	}
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	unix.Close(fd)
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return errors.New("extraction point is not a directory")
	}
	x := &extractor{rootfd: to.rootfd, dir: to.rel, rename: func(n string) string { return n }, keepID: true}
	return x.extract(r)
}
