// Package ipam is the address allocator of lesson 05: it hands each
// container an address of its bridge network's subnet, as Docker's IPAM
// does for a bridge network, and remembers the leases as files under the
// state root, so that every process using the same root shares them.
//
//	subnet 172.18.0.0/16
//	  172.18.0.0     the network address: never handed out
//	  172.18.0.1     the gateway (the bridge's own address): never
//	  172.18.0.2     leased to container A  (a file holding A's ID)
//	  172.18.0.3     leased to container B
//	  ...
//	  172.18.255.255 the broadcast address: never
//
// A lease is taken and given back under flock(2), so two processes
// starting containers at the same moment never get the same address.
package ipam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrExhausted is returned when every usable address of a subnet is leased.
var ErrExhausted = errors.New("no free address left")

// A chosen address (AllocateIP) can be refused for two reasons, which
// Docker's IPAM tells apart in the same words.
var (
	// ErrInUse: the address is leased to another ID, or is the gateway.
	//lint:ignore ST1005 Docker's own words, as docker prints them
	ErrInUse = errors.New("Address already in use")
	// ErrOutOfRange: the address is not one the subnet can lease (outside
	// it, or its network or broadcast address).
	ErrOutOfRange = errors.New("requested address is out of range")
)

// Pool hands out the addresses of one IPv4 subnet, as Docker's IPAM
// does for a bridge network. Leases are files, so they survive the
// process and are shared by every process using the same state root:
//
//	<root>/network/172.18.0.0-16/lock         flock(2)ed around every change
//	<root>/network/172.18.0.0-16/172.18.0.2   holds the owner's ID
//
// It never hands out the network address (all host bits 0), the
// broadcast address (all 1) or the gateway.
type Pool struct {
	dir     string
	subnet  *net.IPNet
	gateway net.IP
}

// OpenSubnet is OpenPool for a subnet and a gateway written as text, as
// `vethctl ipam --subnet CIDR --gateway IP` takes them ("" gateway: the
// subnet's first address).
func OpenSubnet(root, subnet, gateway string) (*Pool, error) {
	_, sn, err := net.ParseCIDR(subnet)
	if err != nil {
		return nil, fmt.Errorf("invalid --subnet %q (want e.g. 10.0.0.0/24)", subnet)
	}
	var gw net.IP
	if gateway != "" {
		if gw = net.ParseIP(gateway).To4(); gw == nil {
			return nil, fmt.Errorf("invalid --gateway %q (want an IPv4 address)", gateway)
		}
	}
	return OpenPool(root, sn, gw)
}

// OpenPool opens (creating its folder) the pool of subnet under the state
// root. gateway nil means the subnet's first address, as Docker picks.
func OpenPool(root string, subnet *net.IPNet, gateway net.IP) (*Pool, error) {
	ip4 := subnet.IP.To4()
	ones, bits := subnet.Mask.Size()
	if ip4 == nil || bits != 32 {
		return nil, fmt.Errorf("address pool %s: only IPv4 subnets are supported", subnet)
	}
	if ones > 30 {
		return nil, fmt.Errorf("address pool %s: subnet too small (a /%d has no address left once network, broadcast and gateway are taken)", subnet, ones)
	}
	sn := &net.IPNet{IP: ip4.Mask(subnet.Mask), Mask: subnet.Mask}
	if gateway == nil {
		gateway = u32ToIP(ipToU32(sn.IP) + 1)
	}
	if !sn.Contains(gateway) {
		return nil, fmt.Errorf("address pool %s: gateway %s is outside the subnet", sn, gateway)
	}
	dir := filepath.Join(root, "network", strings.Replace(sn.String(), "/", "-", 1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("address pool %s: %w", sn, err)
	}
	return &Pool{dir: dir, subnet: sn, gateway: gateway.To4()}, nil
}

// Subnet returns the pool's subnet.
func (p *Pool) Subnet() *net.IPNet { return p.subnet }

// Gateway returns the address the pool keeps for the gateway.
func (p *Pool) Gateway() net.IP { return p.gateway }

// CIDR returns ip with the pool's prefix, the form `ip addr add` takes.
func (p *Pool) CIDR(ip net.IP) *net.IPNet { return &net.IPNet{IP: ip, Mask: p.subnet.Mask} }

// Allocate leases the lowest free address to id and returns it. An id
// that already holds a lease gets the same address back.
func (p *Pool) Allocate(id string) (net.IP, error) { return p.AllocateIP(id, nil) }

// AllocateIP leases the address want to id (docker run --ip), or, with
// want nil, the lowest free one. An id that already holds a lease gets
// it back (with want, only if it is want: ErrInUse otherwise). want must
// be an address the subnet can lease (ErrOutOfRange) that is neither the
// gateway nor leased to another ID (ErrInUse).
func (p *Pool) AllocateIP(id string, want net.IP) (net.IP, error) {
	if err := checkLeaseID(id); err != nil {
		return nil, err
	}
	var ip net.IP
	network := ipToU32(p.subnet.IP)
	broadcast := network | ^binary.BigEndian.Uint32(p.subnet.Mask)
	first, last := network+1, broadcast-1
	gw := ipToU32(p.gateway)
	err := p.locked(func(leases map[string]string) error {
		for addr, owner := range leases {
			if owner == id {
				ip = net.ParseIP(addr).To4()
				if want != nil && !ip.Equal(want) {
					return fmt.Errorf("%w: %s already holds %s", ErrInUse, id, ip)
				}
				return nil
			}
		}
		if want != nil {
			w := want.To4()
			if w == nil || !p.subnet.Contains(w) || ipToU32(w) < first || ipToU32(w) > last {
				return fmt.Errorf("%w: %s", ErrOutOfRange, want)
			}
			if ipToU32(w) == gw || leases[w.String()] != "" {
				return ErrInUse
			}
			ip = w
			return writeLease(filepath.Join(p.dir, w.String()), id)
		}
		for a := first; a <= last; a++ {
			cand := u32ToIP(a)
			if a == gw || leases[cand.String()] != "" {
				continue
			}
			if err := writeLease(filepath.Join(p.dir, cand.String()), id); err != nil {
				return err
			}
			ip = cand
			return nil
		}
		return fmt.Errorf("%w in %s (%d leases)", ErrExhausted, p.subnet, len(leases))
	})
	if err != nil {
		return nil, fmt.Errorf("allocate an address in %s for %s: %w", p.subnet, id, err)
	}
	return ip, nil
}

// Release frees every address leased to id. Releasing an id with no
// lease is not an error, so cleanup can always call it.
func (p *Pool) Release(id string) error {
	if err := checkLeaseID(id); err != nil {
		return err
	}
	err := p.locked(func(leases map[string]string) error {
		for addr, owner := range leases {
			if owner == id {
				if err := os.Remove(filepath.Join(p.dir, addr)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release the address of %s in %s: %w", id, p.subnet, err)
	}
	return nil
}

// Lease is one leased address and its owner.
type Lease struct {
	IP net.IP
	ID string
}

// Leases returns the current leases, lowest address first.
func (p *Pool) Leases() ([]Lease, error) {
	var out []Lease
	err := p.locked(func(leases map[string]string) error {
		for addr, id := range leases {
			out = append(out, Lease{IP: net.ParseIP(addr).To4(), ID: id})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return ipToU32(out[i].IP) < ipToU32(out[j].IP) })
	return out, err
}

// locked runs fn holding the pool's lock, with the leases read from
// disk (address -> owner). flock(2) serialises processes as well as
// goroutines (each call opens its own file description), and the kernel
// drops the lock if the holder dies.
func (p *Pool) locked(fn func(leases map[string]string) error) error {
	lock, err := os.OpenFile(filepath.Join(p.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	for {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	leases, err := p.read()
	if err != nil {
		return err
	}
	return fn(leases)
}

func (p *Pool) read() (map[string]string, error) {
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, err
	}
	leases := map[string]string{}
	for _, e := range ents {
		ip := net.ParseIP(e.Name())
		if ip == nil || ip.To4() == nil {
			continue // the lock file, or a temporary file
		}
		b, err := os.ReadFile(filepath.Join(p.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		leases[ip.To4().String()] = strings.TrimSpace(string(b))
	}
	return leases, nil
}

// writeLease writes the lease under a temporary name and renames it into
// place, so a crash never leaves a lease file without its owner.
func writeLease(path, id string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func checkLeaseID(id string) error {
	if id == "" || strings.ContainsAny(id, "\n/") {
		return fmt.Errorf("invalid lease owner %q", id)
	}
	return nil
}

func ipToU32(ip net.IP) uint32 { return binary.BigEndian.Uint32(ip.To4()) }

func u32ToIP(a uint32) net.IP {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, a)
	return ip
}
