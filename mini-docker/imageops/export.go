package imageops

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"mini-docker/internal/explain"
	"mini-docker/overlay/overlayfs"
)

// dockerInit is what Docker's init layer puts in every container's root
// (moby daemon/initlayer): mount points for the files and filesystems a
// start binds in. `docker export` lists them, so our export does too.
var dockerInit = []struct {
	name, typ string // typ: "dir", "file", or a symlink target
}{
	{"dev/pts", "dir"}, {"dev/shm", "dir"}, {"proc", "dir"}, {"sys", "dir"},
	{".dockerenv", "file"}, {"etc/resolv.conf", "file"}, {"etc/hosts", "file"},
	{"etc/hostname", "file"}, {"dev/console", "file"}, {"etc/mtab", "/proc/mounts"},
}

// Export writes the container's filesystem, as the container sees it,
// as one flat tar (docker export): the image layers and the upper dir
// are mounted read-only, one overlay of lower layers only, at a scratch
// mount point, and the merged view is tarred. Whiteouts never appear:
// overlay already hides what they delete.
func Export(w io.Writer, upper string, lowerTopFirst []string, scratch string, ex *explain.Printer) (err error) {
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
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	now := time.Now()
	made := map[string]bool{}
	for _, e := range dockerInit {
		for _, d := range parents(e.name) {
			if _, err := os.Lstat(filepath.Join(root, d)); err == nil || made[d] {
				continue
			}
			made[d] = true
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: now, Format: tar.FormatPAX})
		}
		if _, err := os.Lstat(filepath.Join(root, e.name)); err == nil {
			continue
		}
		hdr := &tar.Header{Name: e.name, ModTime: now, Format: tar.FormatPAX}
		switch e.typ {
		case "dir":
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, e.name+"/", 0o755
		case "file":
			hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o755
		default:
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, e.typ, 0o777
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
