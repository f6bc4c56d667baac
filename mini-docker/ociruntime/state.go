package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/mini-docker/container"
)

// DefaultRoot is where the runtime keeps its containers' state when no
// --root is given (runc's is /run/runc): a tmpfs, so nothing survives a
// reboot, as no container does.
const DefaultRoot = "/run/mini-docker-runtime"

// State is one container as the runtime keeps it in ROOT/ID/state.json:
// the runtime spec's state (what `state ID` prints) and what the later
// commands need to find the container's kernel objects again.
type State struct {
	specs.State
	Rootfs   string    `json:"rootfs"`
	Created  time.Time `json:"created"`
	PidStart uint64    `json:"pidStart"` // the init's start time: a reused PID is not ours
	// CgroupParent and CgroupName name the group create made; a
	// relative cgroupsPath starts at CgroupBase in each tree (the
	// runtime's own group at create), and CgroupMade are the parent
	// levels create made, the only ones delete removes.
	CgroupParent string            `json:"cgroupParent"`
	CgroupName   string            `json:"cgroupName"`
	CgroupBase   map[string]string `json:"cgroupBase,omitempty"`
	CgroupMade   []string          `json:"cgroupMade"`
	Hooks        *specs.Hooks      `json:"hooks,omitempty"` // poststart and poststop run later
}

// idRE is what runc accepts as a container ID.
var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+\-.]+$`) })

// checkID refuses IDs that could not be a directory under the root.
func checkID(id string) error {
	if id == "" {
		return errors.New("container ID cannot be empty")
	}
	if !idRE().MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container ID %q: use letters, digits, '_', '+', '-' and '.'", id)
	}
	return nil
}

// dir is the container's state directory.
func (r *Runtime) dir(id string) string { return filepath.Join(r.Root, id) }

// fifo is the container's exec.fifo: the init blocks opening it for
// writing until `start` opens it for reading (runc's own mechanism).
func (r *Runtime) fifo(id string) string { return filepath.Join(r.dir(id), "exec.fifo") }

// load reads the container's state and brings its status up to date.
func (r *Runtime) load(id string) (*State, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(r.dir(id), "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %q does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read the state of %q: %w", id, err)
	}
	s.Status = r.status(&s)
	return &s, nil
}

// status is the runtime spec's lifecycle state of s: creating until the
// init is ready, created while it waits on the fifo, running once the
// fifo is gone, stopped once the init is gone.
func (r *Runtime) status(s *State) specs.ContainerState {
	if s.Status == specs.StateCreating {
		return s.Status
	}
	if s.Pid <= 0 || !container.Alive(s.Pid, s.PidStart) {
		return specs.StateStopped
	}
	if _, err := os.Stat(r.fifo(s.ID)); err == nil {
		return specs.StateCreated
	}
	return specs.StateRunning
}

// save writes s atomically (a rename), so a reader never sees half of it.
func (r *Runtime) save(s *State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(r.dir(s.ID), "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save the state of %q: %w", s.ID, err)
	}
	return os.Rename(tmp, filepath.Join(r.dir(s.ID), "state.json"))
}

// ids lists the containers under the root.
func (r *Runtime) ids() ([]string, error) {
	ents, err := os.ReadDir(r.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(r.Root, e.Name(), "state.json")); e.IsDir() && err == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// ociState is the state the runtime spec defines, for `state` and for
// the hooks' standard input.
func ociState(s *State) specs.State {
	o := s.State
	o.Version = specs.Version
	if o.Status == specs.StateStopped {
		o.Pid = 0
	}
	return o
}
