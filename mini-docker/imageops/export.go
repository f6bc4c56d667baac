package imageops

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/initlayer"
	"mini-docker/overlay/overlayfs"
	"mini-docker/pull/unpack"
)

// Export writes the container's filesystem, as the container sees it,
// as one flat tar (docker export): the image layers and the upper dir
// are mounted read-only, one overlay of lower layers only, at a scratch
// mount point made (and removed) in the container's state folder
// stateDir, and the merged view is tarred. Whiteouts never appear:
// overlay already hides what they delete.
func Export(w io.Writer, upper string, lowerTopFirst []string, stateDir string, ex *explain.Printer) (err error) {
	scratch, err := os.MkdirTemp(stateDir, "export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	merged := filepath.Join(scratch, "export-merged")
	if err := os.MkdirAll(merged, 0o755); err != nil {
		return err
	}
	defer os.Remove(merged)
	lower := append([]string{upper}, lowerTopFirst...)
	undo, err := overlayfs.Mount(overlayfs.Options{Lower: lower, Merged: merged, ReadOnly: true}, ex)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if uerr := undo(); err == nil && uerr != nil {
			err = uerr
		}
	}()
	ex.Cmd("tar --xattrs --numeric-owner -C %s -cf - .", explain.Quote(merged))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- appendInit(w, pr, merged) }()
	err = WriteLayerTar(pw, merged)
	pw.CloseWithError(err)
	if aerr := <-done; err == nil {
		err = aerr
	}
	return err
}

// appendInit copies the tar stream r to w, then adds the init layer's
// entries the root does not have.
func appendInit(w io.Writer, r io.Reader, root string) error {
	tw := tar.NewWriter(w)
	err := unpack.Each(r, func(hdr *tar.Header, content io.Reader) error {
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, content)
		return err
	})
	if err != nil {
		return err
	}
	// Looked up inside the root: a symlink the container made (/dev ->
	// /some/host/path) must not make the answer depend on the host's files.
	r2, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r2.Close()
	has := func(name string) bool {
		_, err := r2.Lstat(name)
		return !errors.Is(err, fs.ErrNotExist)
	}
	now := time.Now()
	made := map[string]bool{}
	for _, e := range initlayer.Entries {
		for _, d := range parents(e.Name) {
			if has(d) || made[d] {
				continue
			}
			made[d] = true
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: now, Format: tar.FormatPAX})
		}
		if has(e.Name) {
			continue
		}
		hdr := &tar.Header{Name: e.Name, ModTime: now, Format: tar.FormatPAX}
		switch e.Type {
		case "dir":
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, e.Name+"/", 0o755
		case "file":
			hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o755
		default:
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, e.Type, 0o777
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return tw.Close()
}

// parents lists the folders above name, outermost first ("a/b/c" → a, a/b).
func parents(name string) []string {
	var out []string
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

// ErrNeverRan is a commit (or diff, or export) of a container that has
// no upper layer yet.
type ErrNeverRan struct{ ID string }

func (e *ErrNeverRan) Error() string {
	return fmt.Sprintf("container %s has never run: no upper layer yet", container.ShortID(e.ID))
}
