package networks

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	mobynet "github.com/moby/moby/api/types/network"
)

// Network is a network as Docker records it.
type Network = mobynet.Network

// The built-in networks: docker0's counterpart and the two modes that
// are not networks of their own.
const (
	Default       = "bridge"
	DefaultBridge = "mini-docker0"
	DefaultSubnet = "172.18.0.0/16"
	// BridgeOption is Docker's option naming a network's bridge.
	BridgeOption = "com.docker.network.bridge.name"
)

// NotFoundError is a network that does not exist: Docker's message.
type NotFoundError struct{ Ref string }

func (e *NotFoundError) Error() string { return "network " + e.Ref + " not found" }

// Store is the networks of one state root.
type Store struct {
	Root string
	// Vethctl is the program --explain's lines name for the steps done
	// in-process (ipam alloc and release, create, delete): vethctl's path
	// when the engine runs them, so that its printed script runs as it
	// is; "vethctl" (found on PATH) when empty.
	Vethctl string
}

func (s *Store) vethctl() string {
	if s.Vethctl != "" {
		return s.Vethctl
	}
	return "vethctl"
}

func (s *Store) dir() string { return filepath.Join(s.Root, "networks") }

// defaultNetwork is the built-in bridge network's record (never stored).
func defaultNetwork() *Network {
	return &Network{Name: Default, ID: strings.Repeat("0", 64), Scope: "local", Driver: "bridge", EnableIPv4: true,
		IPAM:    mobynet.IPAM{Driver: "default", Config: []mobynet.IPAMConfig{{Subnet: netip.MustParsePrefix(DefaultSubnet), Gateway: netip.MustParseAddr("172.18.0.1")}}},
		Options: map[string]string{BridgeOption: DefaultBridge, "com.docker.network.bridge.default_bridge": "true"}}
}

// List returns every network: the default first, then the created
// ones by name.
func (s *Store) List() ([]*Network, error) {
	out := []*Network{defaultNetwork()}
	files, _ := filepath.Glob(filepath.Join(s.dir(), "*.json"))
	var user []*Network
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if os.IsNotExist(err) {
				continue // removed while we listed
			}
			return nil, err
		}
		var n Network
		if err := json.Unmarshal(b, &n); err != nil {
			return nil, fmt.Errorf("read network %s: %w", f, err)
		}
		user = append(user, &n)
	}
	sort.Slice(user, func(i, j int) bool { return user[i].Name < user[j].Name })
	return append(out, user...), nil
}

// Bridge returns the name of n's bridge.
func Bridge(n *Network) string { return n.Options[BridgeOption] }

// Subnet returns n's subnet and gateway.
func Subnet(n *Network) (netip.Prefix, netip.Addr) {
	if len(n.IPAM.Config) == 0 {
		return netip.Prefix{}, netip.Addr{}
	}
	return n.IPAM.Config[0].Subnet, n.IPAM.Config[0].Gateway
}

// modes are the networks that are modes of run rather than bridges:
// found by name, never listed by List (network ls prints them itself,
// with these IDs' first 12 digits).
var modes = map[string]*Network{
	"host": {Name: "host", ID: strings.Repeat("0", 11) + "1" + strings.Repeat("0", 52), Scope: "local", Driver: "host"},
	"none": {Name: "none", ID: strings.Repeat("0", 11) + "2" + strings.Repeat("0", 52), Scope: "local", Driver: "null"},
}

// Find returns the network named ref, or whose ID is or starts with ref.
func (s *Store) Find(ref string) (*Network, error) {
	if n := modes[ref]; n != nil {
		return n, nil
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var byID []*Network
	for _, n := range all {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			byID = append(byID, n)
		}
	}
	if len(byID) == 1 {
		return byID[0], nil
	}
	return nil, &NotFoundError{Ref: ref}
}

// record is a network's file: Docker's record, and beside it what
// mini-docker keeps that inspect does not show (as a container's state
// keeps its "MiniDocker" part).
type record struct {
	*Network
	MiniDocker struct {
		// UserSubnet: the subnet was --subnet's, not picked from the
		// pool. Docker lets a container choose its address (--ip) only
		// then: a picked subnet may differ on the next machine.
		UserSubnet bool `json:"UserSubnet,omitempty"`
	} `json:"MiniDocker"`
}

// UserSubnet reports whether n's subnet was given by network create
// --subnet (the default network's never is).
func (s *Store) UserSubnet(n *Network) bool {
	b, err := os.ReadFile(filepath.Join(s.dir(), n.ID+".json"))
	if err != nil {
		return false
	}
	var r record
	return json.Unmarshal(b, &r) == nil && r.MiniDocker.UserSubnet
}

// save writes n's record (a new file renamed into place: a reader sees
// the old record or the new one).
func (s *Store) save(n *Network, userSubnet bool) error {
	if err := os.MkdirAll(s.dir(), 0o755); err != nil {
		return err
	}
	r := record{Network: n}
	r.MiniDocker.UserSubnet = userSubnet
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir(), "."+n.ID+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir(), n.ID+".json"))
}

// newID is a network ID as Docker's: 64 hex digits.
func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// now is the creation time recorded for a network.
func now() time.Time { return time.Now().UTC() }
