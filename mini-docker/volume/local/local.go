// Package local is Docker's "local" volume driver: a volume is a folder
// on the host, ROOT/volumes/NAME/_data, and using it is a bind mount of
// that folder into the container (chroot --bind makes it, as for -v
// HOST:CTR). Its record, ROOT/volumes/NAME/volume.json, is the JSON
// `docker volume inspect` prints.
//
// A new volume mounted where the image has files gets a copy of them
// first (CopyUp), as Docker does; after that the volume's own content
// wins, and it outlives every container that used it.
//
// Lesson 13 (lessons/13-data-and-state.md) teaches it.
package local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/moby/moby/api/types/volume"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
)

// Volume is Docker's volume record.
type Volume = volume.Volume

// Driver is this driver's name.
const Driver = "local"

// AnonymousLabel marks a volume made for one container (an image's
// VOLUME, -v /ctr): `rm -v`, `run --rm` and `volume prune` remove it.
const AnonymousLabel = "com.docker.volume.anonymous"

// ErrNoSuchVolume is Docker's "no such volume".
var ErrNoSuchVolume = errors.New("no such volume")

// Store is the volumes folder of a state root.
type Store struct {
	Root    string // the state root
	Explain *explain.Printer
}

// Dir is the folder of volume name.
func (s *Store) Dir(name string) string { return filepath.Join(s.Root, "volumes", name) }

// Data is the folder a volume's content lives in, the bind's source.
func (s *Store) Data(name string) string { return filepath.Join(s.Dir(name), "_data") }

// Get reads volume name's record.
func (s *Store) Get(name string) (*Volume, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir(name), "volume.json"))
	if errors.Is(err, os.ErrNotExist) || name == "" {
		return nil, fmt.Errorf("get %s: %w", name, ErrNoSuchVolume)
	}
	if err != nil {
		return nil, err
	}
	var v Volume
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	return &v, nil
}

// Create makes volume name (a random 64-hex name when empty), or
// returns the one there already; created says which.
func (s *Store) Create(name string, labels map[string]string) (v *Volume, created bool, err error) {
	if name == "" {
		b := make([]byte, 32)
		rand.Read(b)
		name = hex.EncodeToString(b)
	}
	if v, err := s.Get(name); err == nil {
		return v, false, nil
	}
	v = &Volume{Name: name, Driver: Driver, Mountpoint: s.Data(name), Scope: "local", Labels: labels,
		CreatedAt: time.Now().Format(time.RFC3339)}
	s.Explain.Argv("mkdir", "-p", v.Mountpoint)
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", name, err)
	}
	b, err := json.MarshalIndent(v, "", "    ")
	if err == nil {
		err = container.WriteFileAtomic(filepath.Join(s.Dir(name), "volume.json"), b, 0o600)
	}
	if err != nil {
		os.RemoveAll(s.Dir(name))
		return nil, false, fmt.Errorf("create %s: %w", name, err)
	}
	return v, true, nil
}

// List returns every volume, by name.
func (s *Store) List() ([]*Volume, error) {
	ents, err := os.ReadDir(filepath.Join(s.Root, "volumes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Volume
	for _, e := range ents {
		if v, err := s.Get(e.Name()); err == nil {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes volume name and its content. The caller has checked
// that no container uses it.
func (s *Store) Remove(name string) error {
	if _, err := s.Get(name); err != nil {
		return err
	}
	s.Explain.Argv("rm", "-rf", s.Dir(name))
	if err := os.RemoveAll(s.Dir(name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Anonymous reports whether v was made for one container.
func Anonymous(v *Volume) bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// Size is the bytes the files of a volume hold.
func (s *Store) Size(name string) int64 {
	var n int64
	filepath.Walk(s.Data(name), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
