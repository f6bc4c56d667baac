package logs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	units "github.com/docker/go-units"
)

// Rotation is json-file's --log-opt max-size and max-file: once the log
// holds MaxSize bytes, it becomes PATH.1 (PATH.1 becomes PATH.2, ...,
// up to MaxFiles files in all) and a new PATH begins; with one file, the
// log starts again empty. MaxSize 0 never rotates.
type Rotation struct {
	MaxSize  int64
	MaxFiles int
}

// ParseRotation reads --log-opt's options for json-file, with Docker's
// words for what it refuses (moby's daemon/logger/jsonfilelog).
func ParseRotation(opts map[string]string) (Rotation, error) {
	r := Rotation{MaxFiles: 1}
	for k, v := range opts {
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil {
				return r, fmt.Errorf("failed to initialize logging driver: %w", err)
			}
			if n <= 0 {
				return r, errors.New("failed to initialize logging driver: max-size must be a positive number")
			}
			r.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil {
				return r, fmt.Errorf("failed to initialize logging driver: %w", err)
			}
			if n < 1 {
				return r, errors.New("failed to initialize logging driver: max-file cannot be less than 1")
			}
			r.MaxFiles = n
		case "compress", "labels", "labels-regex", "env", "env-regex", "tag":
			return r, fmt.Errorf("log opt '%s' of the json-file log driver is not supported by mini-docker", k)
		default:
			return r, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}
	return r, nil
}

// Open opens the log at path for appending, rotated as r says.
func Open(path string, r Rotation) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	lf := &File{f: f, file: f, path: path, rot: r}
	if st, err := f.Stat(); err == nil {
		lf.size = st.Size()
	}
	return lf, nil
}

// Close closes the file Open opened.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.file == nil {
		return nil
	}
	return f.file.Close()
}

// rotate moves the full log aside (PATH.N-1 to PATH.N, ..., PATH to
// PATH.1) and opens a new, empty PATH, as Docker's json-file does
// before the write that would go past max-size. The caller holds f.mu.
func (f *File) rotate() error {
	f.file.Close()
	for i := f.rot.MaxFiles - 1; i > 1; i-- {
		os.Rename(rotated(f.path, i-1), rotated(f.path, i))
	}
	if f.rot.MaxFiles > 1 {
		if err := os.Rename(f.path, rotated(f.path, 1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate %s: %w", f.path, err)
		}
	}
	nf, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate %s: %w", f.path, err)
	}
	f.f, f.file, f.size = nf, nf, 0
	return nil
}

// rotated is the name of the log's i-th older file: PATH.i.
func rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }

// eachOlder calls fn with the entries of the rotated files of the log
// at path, oldest first (PATH.N ... PATH.1), for a read from the start.
func eachOlder(path string, fn func(Entry) error) error {
	var files []string
	for i := 1; ; i++ {
		if _, err := os.Stat(rotated(path, i)); err != nil {
			break
		}
		files = append(files, rotated(path, i))
	}
	for i := len(files) - 1; i >= 0; i-- {
		if _, err := EachJSONLine(files[i], 0, fn); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// Follower reads what a log gains, poll after poll (logs -f), across
// its rotations: the lines written to the file it was reading after its
// last poll, before the file became PATH.1, are read there first, then
// any rotated file newer than it, then the new file from its start.
type Follower struct {
	path   string
	ino    uint64 // the file read so far (0: none yet)
	offset int64  // and how far
}

// NewFollower follows the log at path from offset on (the end a Tail
// returned), in the file that is at path now.
func NewFollower(path string, offset int64) *Follower {
	f := &Follower{path: path, offset: offset}
	if st, err := os.Stat(path); err == nil {
		f.ino = inode(st)
	}
	return f
}

// Next calls fn with the entries the log gained since the last call.
func (f *Follower) Next(fn func(Entry) error) error {
	cur, err := os.Open(f.path)
	if err != nil {
		return nil // between a rotation's rename and the new file: next time
	}
	defer cur.Close()
	st, err := cur.Stat()
	if err != nil {
		return err
	}
	ino := inode(st)
	if f.ino != 0 && ino != f.ino {
		f.drainRotated(fn)
		f.offset = 0
	}
	f.ino = ino
	f.offset, err = eachLine(cur, f.offset, fn)
	return err
}

// drainRotated reads the rest of the file read so far, now a rotated
// one (found by its inode), then the rotated files newer than it.
func (f *Follower) drainRotated(fn func(Entry) error) {
	for i := 1; ; i++ {
		st, err := os.Stat(rotated(f.path, i))
		if err != nil {
			return // rotated past max-file already: gone
		}
		if inode(st) != f.ino {
			continue
		}
		EachJSONLine(rotated(f.path, i), f.offset, fn)
		for j := i - 1; j >= 1; j-- {
			EachJSONLine(rotated(f.path, j), 0, fn)
		}
		return
	}
}

// inode is the inode number of the file fi describes.
func inode(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }
