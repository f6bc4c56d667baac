package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/inside/input"
)

// The container's two layers of configuration are Docker's own types:
// Config (what runs: command, environment, user, terminal) and
// HostConfig (what the host gives it: mounts, network, limits,
// security), as docker run's flags set them and docker inspect prints
// them. mini-docker/engine/ocispec.go converts them, in one place, into
// the OCI runtime spec the kernel steps are planned from.
type (
	Config      = mobycontainer.Config
	HostConfig  = mobycontainer.HostConfig
	NetworkMode = mobycontainer.NetworkMode
	Status      = mobycontainer.ContainerState
	Health      = mobycontainer.Health
	// HealthConfig is the health check (--health-cmd, HEALTHCHECK);
	// HealthResult one check's result in State.Health.Log.
	HealthConfig = mobycontainer.HealthConfig
	HealthResult = mobycontainer.HealthcheckResult
	LogConfig    = mobycontainer.LogConfig
	MountPoint   = mobycontainer.MountPoint
	// DeviceMapping is one --device: the host's node, where it goes, the
	// devices cgroup's permissions.
	DeviceMapping = mobycontainer.DeviceMapping
)

// The states of a container, Docker's (docker ps shows them).
const (
	Created = mobycontainer.StateCreated
	Running = mobycontainer.StateRunning
	Paused  = mobycontainer.StatePaused
	Exited  = mobycontainer.StateExited
	Dead    = mobycontainer.StateDead
	// Restarting is the wait between a container's end and the start
	// its restart policy asked for (package engine/restart).
	Restarting = mobycontainer.StateRestarting
)

// The health check's verdicts (State.Health.Status).
const (
	Starting  = mobycontainer.Starting
	Healthy   = mobycontainer.Healthy
	Unhealthy = mobycontainer.Unhealthy
)

// RestartPolicy is docker run --restart, Docker's type.
type RestartPolicy = mobycontainer.RestartPolicy

// The restart policies (docker run --restart).
const (
	RestartAlways        = mobycontainer.RestartPolicyAlways
	RestartUnlessStopped = mobycontainer.RestartPolicyUnlessStopped
	RestartOnFailure     = mobycontainer.RestartPolicyOnFailure
)

// The network modes of docker run --network that mini-docker knows.
const (
	NetworkBridge NetworkMode = "bridge"
	NetworkNone   NetworkMode = "none"
	NetworkHost   NetworkMode = "host"
)

// Container is what mini-docker records about a container, in the shape
// `docker inspect` prints (the fields the walkthrough uses), plus the
// private Runtime part: what the run created, so that rm, prune and crash
// recovery can release it.
type Container struct {
	ID              string          `json:"Id"`
	Created         time.Time       `json:"Created"`
	Path            string          `json:"Path"`
	Args            []string        `json:"Args"`
	State           State           `json:"State"`
	Image           string          `json:"Image"`
	ResolvConfPath  string          `json:"ResolvConfPath"`
	HostnamePath    string          `json:"HostnamePath"`
	HostsPath       string          `json:"HostsPath"`
	LogPath         string          `json:"LogPath"`
	Name            string          `json:"Name"`
	RestartCount    int             `json:"RestartCount"`
	Driver          string          `json:"Driver"`
	Platform        string          `json:"Platform"`
	HostConfig      HostConfig      `json:"HostConfig"`
	GraphDriver     GraphDriver     `json:"GraphDriver"`
	Mounts          []MountPoint    `json:"Mounts"` // volumes and binds, their host sources resolved at create
	Config          Config          `json:"Config"`
	NetworkSettings NetworkSettings `json:"NetworkSettings"`

	Runtime Runtime `json:"MiniDocker"`
}

// LowerDirs returns the image layers recorded for c, top-most first (as
// overlayfs lists them, and as engine.Create records them).
func (c *Container) LowerDirs() []string {
	var out []string
	for _, l := range strings.Split(c.GraphDriver.Data["LowerDir"], ":") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// State is Docker's State object.
type State struct {
	Status     Status    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	Health     *Health   `json:"Health,omitempty"` // --health-cmd's checks (Docker's State.Health)
}

// GraphDriver names the overlay mount's folders, as Docker's overlay2 does.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// NetworkSettings is the part of Docker's NetworkSettings the walkthrough reads.
type NetworkSettings struct {
	Bridge      string                      `json:"Bridge"`
	SandboxKey  string                      `json:"SandboxKey"`
	Ports       network.PortMap             `json:"Ports"`
	Gateway     string                      `json:"Gateway"`
	IPAddress   string                      `json:"IPAddress"`
	IPPrefixLen int                         `json:"IPPrefixLen"`
	MacAddress  string                      `json:"MacAddress"`
	Networks    map[string]*EndpointSetting `json:"Networks"`
}

// EndpointSetting is one network the container is attached to.
type EndpointSetting struct {
	NetworkID string   `json:"NetworkID,omitempty"`
	Aliases   []string `json:"Aliases,omitempty"` // --network-alias: more names on a user network
	// IPAMConfig is the address asked for (run --ip, network connect --ip).
	IPAMConfig  *network.EndpointIPAMConfig `json:"IPAMConfig,omitempty"`
	Gateway     string                      `json:"Gateway"`
	IPAddress   string                      `json:"IPAddress"`
	IPPrefixLen int                         `json:"IPPrefixLen"`
	MacAddress  string                      `json:"MacAddress"`
}

// Runtime records the processes and kernel objects a run made.
type Runtime struct {
	// Monitor is the process that waits for the container and records
	// its exit (the mini-docker run itself, or the detached monitor).
	MonitorPid   int    `json:"MonitorPid,omitempty"`
	MonitorStart uint64 `json:"MonitorStart,omitempty"`
	// PidStart is the start time of State.Pid (field 22 of
	// /proc/PID/stat), so a recycled PID is never mistaken for it.
	PidStart uint64 `json:"PidStart,omitempty"`

	ImageRef   string `json:"ImageRef,omitempty"`
	Merged     string `json:"Merged,omitempty"`     // overlay mount point
	Cgroup     string `json:"Cgroup,omitempty"`     // cgroupctl group name
	Netns      string `json:"Netns,omitempty"`      // /run/netns name
	HostVeth   string `json:"HostVeth,omitempty"`   // veth on the host side
	Bridge     string `json:"Bridge,omitempty"`     // bridge the veth is on
	Lease      string `json:"Lease,omitempty"`      // leased IP
	MacAddress string `json:"MacAddress,omitempty"` // --mac-address (eth0's; default MACFor(Lease))
	Forwarders []int  `json:"Forwarders,omitempty"` // -p forwarder PIDs
	// ForwarderStarts are their start times (StartTime), one each: Stop
	// signals a PID only while it is still that forwarder.
	ForwarderStarts []uint64          `json:"ForwarderStarts,omitempty"`
	Chain           []string          `json:"Chain,omitempty"` // the exec'd chain, for exec and explain
	Env             []string          `json:"Env,omitempty"`   // the chain's environment
	Files           []string          `json:"Files,omitempty"` // tools passed as fds 3, 4, ...
	Hops            []int             `json:"Hops,omitempty"`  // indexes in Chain of tools named by host path
	Comms           map[string]string `json:"Comms,omitempty"` // chain stage per command name
	Userns          bool              `json:"Userns,omitempty"`
	Seccomp         string            `json:"Seccomp,omitempty"`
	Caps            []string          `json:"Caps,omitempty"` // capabilities the container keeps
	NoNewPrivs      bool              `json:"NoNewPrivs,omitempty"`
	Released        bool              `json:"Released,omitempty"` // kernel objects released
	// ManuallyStopped says the user stopped the container (stop, rm -f),
	// so its restart policy leaves it stopped (Docker's
	// HasBeenManuallyStopped); RestartDelay is the back-off the last
	// restart waited (package engine/restart).
	ManuallyStopped bool          `json:"ManuallyStopped,omitempty"`
	RestartDelay    time.Duration `json:"RestartDelay,omitempty"`
	// Inside is the chain's work inside the namespaces, done in one
	// process (see engine/launch/inside.go); ToolChain says the chain is run
	// as the separate tools instead (run --tool-chain).
	Inside    *Inside `json:"Inside,omitempty"`
	ToolChain bool    `json:"ToolChain,omitempty"`
}

// Inside is what the chain of tools from unshare to the command does,
// as data (package inside/input, a leaf: mini-docker-inside links it
// without this package's dependencies and their start-up work).
type Inside = input.Inside

// Store is the containers folder of a state root.
type Store struct {
	Root string // the state root; containers live in Root/containers
}

// Dir returns the state folder of container id.
func (s *Store) Dir(id string) string { return filepath.Join(s.Root, "containers", id) }

// StatePath returns the path of id's state.json.
func (s *Store) StatePath(id string) string { return filepath.Join(s.Dir(id), "state.json") }

// Load reads the state of container id.
func (s *Store) Load(id string) (*Container, error) {
	b, err := os.ReadFile(s.StatePath(id))
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", ShortID(id), err)
	}
	var c Container
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read state of %s: %s: %w", ShortID(id), s.StatePath(id), err)
	}
	return &c, nil
}

// Save writes c's state atomically: a reader sees the old file or the
// new one, never a mix (rename(2) replaces the name in one step). The
// JSON is compact, as Docker writes its config.v2.json (`jq .` shows it
// indented): a run saves its state three times, and indenting cost
// five times what encoding did.
//
// A --rm container's state is swapped in without the disk write that
// replacing a file starts (writeFile's swap): its folder goes when it
// ends, and after a crash a state the disk never got is a broken folder,
// which List's sweep removes, as --rm asked.
func (s *Store) Save(c *Container) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return writeFile(s.StatePath(c.ID), b, 0o600, c.HostConfig.AutoRemove)
}

// WriteFileAtomic writes data to a temporary file next to path, syncs
// nothing (state is rebuilt after a crash anyway), and renames it over path.
// On a full disk it writes over path itself when data fits the blocks
// path already has: a container's end is recorded all the same.
//
// Renaming over a file makes ext4 start writing the new file's data at
// once (its auto_da_alloc: so that a crash leaves the old content or
// the new, not an empty file), and the next replace of it waits for
// that write to finish.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeFile(path, data, mode, false)
}

// writeFile is WriteFileAtomic; with swap, for a file that need not
// survive a crash, the temporary file and path trade places in one step
// (renameat2 RENAME_EXCHANGE, which starts no write: a reader still
// sees the old file or the new one), then the old one, now under the
// temporary name, is removed, its data never written.
func writeFile(path string, data []byte, mode os.FileMode, swap bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if errors.Is(err, unix.ENOSPC) {
		return overwriteInPlace(path, data, err)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		if errors.Is(err, unix.ENOSPC) {
			return overwriteInPlace(path, data, err)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if swap && unix.Renameat2(unix.AT_FDCWD, tmp.Name(), unix.AT_FDCWD, path, unix.RENAME_EXCHANGE) == nil {
		os.Remove(tmp.Name())
		return nil
	}
	// No file to trade with yet (ENOENT), or a file system without
	// RENAME_EXCHANGE (EINVAL): a plain rename.
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// overwriteInPlace writes data over the file path when its blocks hold
// it (st_blocks: nothing to allocate on a full disk), else returns full,
// the error that brought it here.
func overwriteInPlace(path string, data []byte, full error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, full)
	}
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || int64(len(data)) > st.Blocks*512 {
		return fmt.Errorf("write %s: %w", path, full)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Truncate(int64(len(data)))
}

// IDs lists the IDs of every container with a state folder.
func (s *Store) IDs() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.Root, "containers"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && len(e.Name()) == 64 {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// List loads every container, newest first. Containers whose state
// cannot be read (a run killed while creating it) are returned as
// Broken IDs so callers can remove them.
func (s *Store) List() (cs []*Container, broken []string, err error) {
	ids, err := s.IDs()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		c, err := s.Load(id)
		if err != nil {
			broken = append(broken, id)
			continue
		}
		cs = append(cs, c)
	}
	sortNewestFirst(cs)
	return cs, broken, nil
}

func sortNewestFirst(cs []*Container) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Created.After(cs[j-1].Created); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
