package dockerfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/dockerfile/ignore"
	"mini-docker/mini-docker/dockerfile/remote"
	"mini-docker/mini-docker/imagefile"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/pull/unpack"
)

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

func statOf(fi fs.FileInfo) *syscall.Stat_t { return fi.Sys().(*syscall.Stat_t) }

// copyFile is one file (or folder, or link) a COPY puts into the image.
type copyFile struct {
	src  string // on the host, inside the context
	dest string // in the image, absolute
	// top: src is itself a SOURCE of the instruction, not a file found
	// in a folder SOURCE: only such a tar archive is unpacked by ADD.
	top bool
}

// copy runs COPY and ADD for files of the context: they are gathered
// into a fresh folder laid out as the image will see them, which is then
// committed as a layer, like a container's upper dir.
func (b *Builder) copy(in Instruction) (bool, error) {
	chown, from, checksum, srcs, dest, err := b.copyArgs(in)
	if err != nil {
		return false, err
	}
	src, srcs, undo, err := b.copySource(in, from, checksum, srcs)
	if err != nil {
		return false, err
	}
	defer undo()
	destIsDir := strings.HasSuffix(dest, "/") || dest == "." || strings.HasSuffix(dest, "/.") || len(srcs) > 1
	if !filepath.IsAbs(dest) {
		dest = filepath.Join("/", b.cfg.WorkingDir, dest)
	}
	dest = filepath.Clean(dest)
	if b.cur != nil && isDirInLayers(b.cur.LayerDirs, dest) {
		destIsDir = true // an existing folder receives the files
	}
	var files []copyFile
	for _, s := range srcs {
		more, err := src.gather(in, s, dest, destIsDir)
		if err != nil {
			return false, err
		}
		files = append(files, more...)
	}
	uid, gid, err := b.resolveChown(chown)
	if err != nil {
		return false, err
	}
	if from != "" && chown == "" {
		uid, gid = -1, -1 // from a stage or image, files keep their owners
	}
	sum, err := contentHash(files, uid, gid)
	if err != nil {
		return false, err
	}
	kind := "file"
	if len(files) > 1 {
		kind = "dir"
	}
	createdBy := fmt.Sprintf("%s%s %s:%s in %s ", nop(b.ext.Shell), in.Cmd, kind, sum, dest)
	key := b.cacheKey(createdBy, sum)
	if b.cached(key) {
		return true, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(b.s.Root, "ingest"), "build-copy."+strconv.Itoa(os.Getpid())+".")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	if err := b.layOut(in.Cmd, in.Cmd == "ADD" && !src.remote, tmp, dest, files, uid, gid); err != nil {
		return false, err
	}
	layer, err := newlayer.Commit(b.s, tmp, b.o.Explain)
	if err != nil {
		return false, err
	}
	return false, b.commit(key, createdBy, layer)
}

// copySource is where a COPY or ADD takes its files from, and the names
// to take there: the context; with heredocs or ADD's URLs, a fresh folder
// holding them; with --from, an earlier stage or an image, mounted for
// the time of the copy. undo removes or unmounts what it made.
func (b *Builder) copySource(in Instruction, from, checksum string, srcs []string) (source, []string, func(), error) {
	switch {
	case len(in.Heredocs) > 0:
		dir, names, err := b.heredocFiles(in, srcs)
		if err != nil {
			return source{}, nil, nil, err
		}
		return source{root: dir}, names, func() { os.RemoveAll(dir) }, nil
	case in.Cmd == "ADD" && (remote.IsURL(srcs[0]) || checksum != ""):
		if !remote.IsURL(srcs[0]) {
			return source{}, nil, nil, &ParseError{in.Line, "checksum can't be specified for non-HTTP(S) sources"}
		}
		dir, names, err := b.downloads(in, srcs, checksum)
		if err != nil {
			return source{}, nil, nil, err
		}
		return source{root: dir, remote: true}, names, func() { os.RemoveAll(dir) }, nil
	case from != "":
		img, err := b.sourceImage(from)
		if err != nil {
			return source{}, nil, nil, err
		}
		root, undo, err := mountImage(b.s, img, b.o.Explain)
		if err != nil {
			return source{}, nil, nil, err
		}
		return source{root: root, stage: true}, srcs, undo, nil
	}
	return source{root: b.o.Context, ignore: b.ignore}, srcs, func() {}, nil
}

// copyArgs reads COPY/ADD's --chown, --from (COPY) and --checksum (ADD)
// and its SOURCE... DEST words, expanded.
func (b *Builder) copyArgs(in Instruction) (chown, from, sum string, srcs []string, dest string, err error) {
	for _, f := range in.Flags {
		name, value, _ := strings.Cut(f, "=")
		if value, err = b.word(in, value); err != nil {
			return "", "", "", nil, "", err
		}
		switch {
		case name == "--chown":
			chown = value
		case name == "--from" && in.Cmd == "COPY":
			from = value
		case name == "--checksum" && in.Cmd == "ADD":
			if sum, err = remote.ParseChecksum(value); err != nil {
				return "", "", "", nil, "", &ParseError{in.Line, err.Error()}
			}
		default:
			return "", "", "", nil, "", &ParseError{in.Line, fmt.Sprintf("%s: flag %s is not supported", in.Cmd, f)}
		}
	}
	// Each word as the parser split it (at spaces, or the JSON form's
	// strings), expanded on its own, its quotes taken off.
	if len(in.Words) < 2 {
		return "", "", "", nil, "", &ParseError{in.Line, in.Cmd + " requires at least two arguments: SOURCE... DEST"}
	}
	words := make([]string, len(in.Words))
	for i, w := range in.Words {
		if words[i], err = b.word(in, w); err != nil {
			return "", "", "", nil, "", err
		}
	}
	return chown, from, sum, words[:len(words)-1], words[len(words)-1], nil
}

// source is where COPY's files come from: the build context (with its
// .dockerignore), or the root of an earlier stage or an image.
type source struct {
	root   string
	ignore *ignore.Matcher // nil: nothing is excluded
	stage  bool            // a stage's root: absolute paths are inside it
	remote bool            // ADD's downloads: archives stay archives
}

// ignored reports whether .dockerignore excludes rel.
func (s source) ignored(rel string) bool { return s.ignore != nil && s.ignore.Ignored(rel) }

// sendable keeps the matches of a SOURCE that are in the context
// Docker would send: none that .dockerignore excludes (a glob leaves
// those out; a plain name matching one is not found), and for a glob,
// none reached through a symbolic link to a folder (Docker matches a
// glob against a walk of the context, which never follows one; a link
// to a host folder would list the host's names).
func (s source) sendable(matches []string, glob bool) []string {
	return slices.DeleteFunc(matches, func(m string) bool {
		mrel, _ := filepath.Rel(s.root, m)
		if mrel != "." && s.ignored(mrel) {
			return true
		}
		if !glob {
			return false
		}
		dir, _ := filepath.Rel(s.root, filepath.Dir(m))
		real, err := securejoin.SecureJoin(s.root, dir)
		return err != nil || real != filepath.Dir(m)
	})
}

// gather lists what SOURCE src (a glob, relative to the source's root)
// puts under dest: a folder's whole tree, minus what .dockerignore
// excludes.
func (s source) gather(in Instruction, src, dest string, destIsDir bool) ([]copyFile, error) {
	rel := filepath.Clean(src)
	if filepath.IsAbs(rel) || s.stage {
		// Docker: absolute sources are relative to the context; in a
		// stage's root, ".." stops at "/" as it does in the container.
		rel = strings.TrimPrefix(filepath.Clean("/"+rel), "/")
		if rel == "" {
			rel = "."
		}
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("%s failed: forbidden path outside the build context: %s ()", in.Cmd, src)
	}
	matches, err := filepath.Glob(filepath.Join(s.root, rel))
	matches = s.sendable(matches, strings.ContainsAny(rel, `*?[\`))
	if err != nil || len(matches) == 0 {
		return nil, fmt.Errorf("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", in.Cmd, src)
	}
	if len(matches) > 1 {
		destIsDir = true
	}
	var files []copyFile
	for _, m := range matches {
		mrel, _ := filepath.Rel(s.root, m)
		// Symlinks in the context resolve inside it, never out.
		full, err := securejoin.SecureJoin(s.root, mrel)
		if err != nil {
			return nil, fmt.Errorf("%s failed: %s: %w", in.Cmd, src, err)
		}
		// What a link names must be in the context Docker would send: a
		// file .dockerignore excludes is not, whatever link reaches it.
		if frel, _ := filepath.Rel(s.root, full); frel != "." && s.ignored(frel) {
			return nil, fmt.Errorf("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", in.Cmd, src)
		}
		fi, err := os.Stat(full)
		if err != nil {
			return nil, fmt.Errorf("%s failed: %w", in.Cmd, err)
		}
		if !fi.IsDir() {
			d := dest
			if destIsDir {
				d = filepath.Join(dest, filepath.Base(m))
			}
			files = append(files, copyFile{src: full, dest: d, top: true})
			continue
		}
		err = filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(s.root, p)
			if r != mrel && s.ignored(r) {
				if d.IsDir() && !s.ignore.KeepsBelow(r) {
					return filepath.SkipDir
				}
				return nil
			}
			inner, _ := filepath.Rel(full, p)
			files = append(files, copyFile{src: p, dest: filepath.Join(dest, inner)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// layOut writes files into tmp as the image will see them (ADD unpacks
// a local tar archive, plain or gzip'd, that is itself a SOURCE into
// dest), their parent folders made like the image's own. Every path is
// resolved inside tmp (os.Root): an entry an earlier SOURCE made there,
// a symlink to a host path say, is replaced, as Docker's untar replaces
// it, and never written through.
func (b *Builder) layOut(cmd string, unpack bool, tmp, dest string, files []copyFile, uid, gid int) error {
	var layers []string
	if b.cur != nil {
		layers = b.cur.LayerDirs
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		if unpack && f.top && isArchive(f.src) {
			if err := mkdirLike(root, dest, layers); err != nil {
				return err
			}
			if err := extract(f.src, filepath.Join(tmp, dest)); err != nil {
				return fmt.Errorf("ADD failed: %s: %w", f.src, err)
			}
			continue
		}
		if err := mkdirLike(root, filepath.Dir(f.dest), layers); err != nil {
			return err
		}
		if err := copyOne(root, f.src, strings.TrimPrefix(f.dest, "/"), uid, gid); err != nil {
			return fmt.Errorf("%s failed: %w", cmd, err)
		}
	}
	return nil
}

// contentHash names the copied content: paths, modes, owner and bytes
// (not times: a touched but unchanged file still hits the cache).
func contentHash(files []copyFile, uid, gid int) (string, error) {
	sorted := append([]copyFile{}, files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].dest < sorted[j].dest })
	h := sha256.New()
	fmt.Fprintf(h, "%d:%d\n", uid, gid)
	for _, f := range sorted {
		fi, err := os.Lstat(f.src)
		if err != nil {
			return "", err
		}
		// Each field is quoted or of a fixed length (a file's content
		// goes in as its own sha256), so no file's bytes can pose as the
		// next entry: two different trees never share a key.
		fmt.Fprintf(h, "%q %o ", f.dest, fi.Mode())
		if uid < 0 {
			fmt.Fprintf(h, "%d:%d ", statOf(fi).Uid, statOf(fi).Gid)
		}
		switch {
		case fi.Mode().IsRegular():
			r, err := os.Open(f.src)
			if err != nil {
				return "", err
			}
			fh := sha256.New()
			_, err = io.Copy(fh, r)
			r.Close()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%x", fh.Sum(nil))
		case fi.Mode()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(f.src)
			fmt.Fprintf(h, "%q", t)
		}
		h.Write([]byte("\n"))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyOne copies a file, folder or symlink to rel inside root, keeping
// mode and mtime, owned by uid:gid (root unless --chown; -1 keeps the
// source's owner). What rel names already is replaced, unless both are
// folders.
func copyOne(root *os.Root, src, rel string, uid, gid int) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if uid < 0 {
		uid, gid = int(statOf(fi).Uid), int(statOf(fi).Gid)
	}
	if old, err := root.Lstat(rel); err == nil && !(old.IsDir() && fi.IsDir()) {
		remove := root.Remove
		if old.IsDir() {
			remove = root.RemoveAll
		}
		if err := remove(rel); err != nil {
			return err
		}
	}
	mode := fi.Mode().Perm() | fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	switch {
	case fi.IsDir():
		if err := root.Mkdir(rel, mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := root.Symlink(t, rel); err != nil {
			return err
		}
		if err := root.Lchown(rel, uid, gid); err != nil {
			return err
		}
		return lchtimes(root, rel, fi.ModTime())
	case fi.Mode().IsRegular():
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm())
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: only files, folders and symlinks can be copied", src)
	}
	// The owner before the mode: chown clears the set-user-ID bits.
	if err := root.Lchown(rel, uid, gid); err != nil {
		return err
	}
	if err := root.Chmod(rel, mode); err != nil {
		return err
	}
	return root.Chtimes(rel, fi.ModTime(), fi.ModTime())
}

// lchtimes sets the times of the symlink rel inside root, not of what
// it points to.
func lchtimes(root *os.Root, rel string, t time.Time) error {
	dir, err := root.Open(filepath.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(int(dir.Fd()), filepath.Base(rel), ts, unix.AT_SYMLINK_NOFOLLOW)
}

// resolveChown turns --chown=USER[:GROUP] into numbers, names looked up
// in the image's /etc/passwd and /etc/group (the top-most layer that has
// them), as Docker does.
func (b *Builder) resolveChown(spec string) (int, int, error) {
	if spec == "" {
		return 0, 0, nil
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	var layers []string
	if b.cur != nil {
		layers = b.cur.LayerDirs
	}
	uid, pgid, err := lookupID(layers, "etc/passwd", user, true)
	if err != nil {
		return 0, 0, fmt.Errorf("unable to convert uid/gid chown string to host mapping: %w", err)
	}
	gid := uid
	if pgid >= 0 {
		gid = pgid
	}
	if hasGroup {
		if gid, _, err = lookupID(layers, "etc/group", group, false); err != nil {
			return 0, 0, fmt.Errorf("unable to convert uid/gid chown string to host mapping: %w", err)
		}
	}
	return uid, gid, nil
}

// lookupID finds name in a passwd or group file of the layers (numbers
// pass through). For passwd it also returns the user's primary group.
func lookupID(layers []string, file, name string, passwd bool) (int, int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, -1, nil
	}
	for i := len(layers) - 1; i >= 0; i-- {
		data, err := imagefile.Read(layers[i], file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 3 && f[0] == name {
				id, err := strconv.Atoi(f[2])
				if err != nil {
					return 0, 0, err
				}
				gid := -1
				if passwd && len(f) >= 4 {
					gid, _ = strconv.Atoi(f[3])
				}
				return id, gid, nil
			}
		}
		break
	}
	return 0, 0, fmt.Errorf("no %s entry for %q", file, name)
}

// isDirInLayers reports whether p is a folder in the merged view of
// layers (base first).
func isDirInLayers(layers []string, p string) bool {
	if !existsInLayers(layers, p) {
		return false
	}
	for i := len(layers) - 1; i >= 0; i-- {
		if fi, err := os.Lstat(filepath.Join(layers[i], p)); err == nil {
			return fi.IsDir()
		}
	}
	return false
}

// tarReader opens a file as a tar stream, gunzipping it when it starts
// with gzip's magic bytes.
func tarReader(p string) (io.Reader, func(), error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return zr, func() { f.Close() }, nil
	}
	return br, func() { f.Close() }, nil
}

// isArchive reports whether p is a tar archive (its header says "ustar"
// at offset 257), maybe gzip'd: what ADD unpacks instead of copying.
func isArchive(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	r, done, err := tarReader(p)
	if err != nil {
		return false
	}
	defer done()
	hdr := make([]byte, 265)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return false
	}
	return string(hdr[257:262]) == "ustar"
}

// extract unpacks the archive p into dir with pull's unpacker (which
// refuses entries that would land outside dir).
func extract(p, dir string) error {
	r, done, err := tarReader(p)
	if err != nil {
		return err
	}
	defer done()
	return unpack.Unpack(r, dir)
}
