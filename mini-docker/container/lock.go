package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is a held flock(2) on a file. flock locks belong to the open file,
// so the kernel drops them when the holder dies: a SIGKILLed mini-docker
// never leaves a stale lock behind.
type Lock struct{ f *os.File }

// LockFile takes an exclusive lock on path, creating it when needed.
func LockFile(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: flock: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// LockContainer locks container id's state against other mini-docker
// commands and its monitor.
func (s *Store) LockContainer(id string) (*Lock, error) {
	return LockFile(filepath.Join(s.Dir(id), "lock"))
}

// LockLoad locks container id's state (LockContainer) and loads it; the
// caller unlocks. On an error nothing stays locked.
func (s *Store) LockLoad(id string) (*Container, *Lock, error) {
	l, err := s.LockContainer(id)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Load(id)
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return c, l, nil
}

// lockAll serialises creating and renaming containers, so two runs with
// the same --name cannot both win.
func (s *Store) lockAll() (*Lock, error) {
	dir := filepath.Join(s.Root, "containers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	return LockFile(filepath.Join(dir, ".lock"))
}

// ErrNameInUse is returned by Create when the name is taken.
type ErrNameInUse struct{ Name, ID string }

func (e *ErrNameInUse) Error() string {
	return fmt.Sprintf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", e.Name, e.ID)
}

// Create reserves a new container: a fresh ID, the name (a random one
// when name is empty), and its state folder with an initial state.json in
// status "created". fill sets the rest of the record before it is first
// written.
func (s *Store) Create(name string, fill func(c *Container)) (*Container, error) {
	if name != "" {
		name = strings.TrimPrefix(name, "/")
		if err := CheckName(name); err != nil {
			return nil, err
		}
	}
	l, err := s.lockAll()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	taken := map[string]string{}
	cs, _, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		taken[strings.TrimPrefix(c.Name, "/")] = c.ID
	}
	if name != "" {
		if id, ok := taken[name]; ok {
			return nil, &ErrNameInUse{Name: name, ID: id}
		}
	} else {
		for retry := 0; ; retry++ {
			name = RandomName(retry)
			if _, ok := taken[name]; !ok {
				break
			}
		}
	}
	c := &Container{
		ID:       NewID(),
		Created:  time.Now().UTC(),
		Name:     "/" + name,
		Driver:   "overlay2",
		Platform: "linux",
		State:    State{Status: Created},
	}
	if fill != nil {
		fill(c)
	}
	if err := os.Mkdir(s.Dir(c.ID), 0o710); err != nil {
		return nil, fmt.Errorf("create container folder: %w", err)
	}
	if err := s.Save(c); err != nil {
		os.RemoveAll(s.Dir(c.ID))
		return nil, err
	}
	return c, nil
}

// ErrNoSuchContainer is Docker's answer for a name or ID that matches nothing.
type ErrNoSuchContainer struct{ Ref string }

func (e *ErrNoSuchContainer) Error() string { return "No such container: " + e.Ref }

// Find resolves a container reference the way Docker does: a full ID,
// then an exact name, then a unique ID prefix.
func (s *Store) Find(ref string) (*Container, error) {
	if ref == "" {
		return nil, &ErrNoSuchContainer{Ref: ref}
	}
	cs, _, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.ID == ref {
			return c, nil
		}
	}
	for _, c := range cs {
		if c.Name == "/"+strings.TrimPrefix(ref, "/") {
			return c, nil
		}
	}
	var match *Container
	for _, c := range cs {
		if strings.HasPrefix(c.ID, ref) {
			if match != nil {
				return nil, fmt.Errorf("multiple IDs found with provided prefix: %s", ref)
			}
			match = c
		}
	}
	if match == nil {
		return nil, &ErrNoSuchContainer{Ref: ref}
	}
	return match, nil
}

// Remove deletes container id's state folder.
func (s *Store) Remove(id string) error {
	// The folder is renamed away first, in one step: a process that opens
	// the lock file now (O_CREAT: a monitor recording the end) finds no
	// folder, instead of creating the file again in a folder RemoveAll is
	// emptying, which rmdir then refuses (ENOTEMPTY).
	gone := filepath.Join(s.Root, "containers", ".removing-"+id)
	if err := os.Rename(s.Dir(id), gone); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		gone = s.Dir(id)
	}
	if err := removeAll(gone); err != nil {
		return fmt.Errorf("remove container folder %s: %w", s.Dir(id), err)
	}
	return nil
}

// SweepRemoving finishes the removals a killed rm left half done: the
// containers/.removing-ID folders (a container's upper layer among
// them), each mount left on one detached first. It returns what it took.
func (s *Store) SweepRemoving() []string {
	left, _ := filepath.Glob(filepath.Join(s.Root, "containers", ".removing-*"))
	var took []string
	for _, p := range left {
		unix.Unmount(filepath.Join(p, "merged"), unix.MNT_DETACH)
		if removeAll(p) == nil {
			took = append(took, "container folder "+strings.TrimPrefix(filepath.Base(p), ".removing-"))
		}
	}
	return took
}

// removeAll is os.RemoveAll that also takes files a container made
// immutable or append-only (chattr +i, with --cap-add LINUX_IMMUTABLE):
// root may clear those flags, and Docker's rm is not stopped by them.
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
		if err == nil && (d.Type().IsRegular() || d.IsDir()) {
			clearFlags(q)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// clearFlags takes the immutable and append-only flags off file p
// (FS_IOC_SETFLAGS), never through a symbolic link.
func clearFlags(p string) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	const immutable, appendOnly = 0x10, 0x20 // FS_IMMUTABLE_FL, FS_APPEND_FL
	if flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS); err == nil && flags&(immutable|appendOnly) != 0 {
		unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, flags&^(immutable|appendOnly))
	}
}

// Rename gives container id a new name, under the same lock as Create,
// so a name is never taken twice. Docker's words for each refusal.
func (s *Store) Rename(id, name string) (*Container, error) {
	name = strings.TrimPrefix(name, "/")
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("Error when allocating new name: %w", err)
	}
	l, err := s.lockAll()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	cs, _, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Name == "/"+name {
			if c.ID == id {
				//lint:ignore ST1005 Docker's own words, as docker prints them
				return nil, fmt.Errorf("Renaming a container with the same name as its current name")
			}
			return nil, fmt.Errorf("Error when allocating new name: %w", &ErrNameInUse{Name: name, ID: c.ID})
		}
	}
	c, cl, err := s.LockLoad(id)
	if err != nil {
		return nil, err
	}
	defer cl.Unlock()
	c.Name = "/" + name
	return c, s.Save(c)
}
