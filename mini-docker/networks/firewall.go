package networks

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
	"mini-docker/pull/daemonjson"
	"mini-docker/vethctl/ipam"
	"mini-docker/vethctl/network"
)

// SyncFirewall makes the host's firewall hold the rules of every
// network that has containers now (a lease in its address pool): a
// masquerading rule per network, so containers reach out through the
// host's interfaces, and isolation between networks, as Docker has them.
// With no container left, mini-docker's rules are gone. daemon.json's
// "iptables": false turns this off, as it does Docker's.
//
// Every process that adds or releases a container calls it, under one
// lock, so the rules always follow the leases.
func (s *Store) SyncFirewall(ex *explain.Printer) error { return s.SyncFirewallWithout("", ex) }

// SyncFirewallWithout is SyncFirewall with container id's leases
// counted as given back already: a container that has ended syncs the
// rules first, and gives its addresses back meanwhile. A start on the
// same network at the same moment syncs after it (one lock), counting
// its own lease.
func (s *Store) SyncFirewallWithout(id string, ex *explain.Printer) error {
	cfg, path, err := daemonjson.Read()
	if err != nil {
		return err
	}
	if cfg.Iptables != nil && !*cfg.Iptables {
		ex.Note("no NAT or isolation rules: \"iptables\": false in %s", path)
		return nil
	}
	backend, err := network.DetectBackend(cfg.FirewallBackend)
	if err != nil {
		return err
	}
	unlock, err := s.lock("firewall.lock")
	if err != nil {
		return err
	}
	defer unlock()
	nets, err := s.active(id)
	if err != nil {
		return err
	}
	return network.SyncFirewall(backend, nets, ex)
}

// active lists the networks that have at least one leased address
// (not counting those of container ending, if not "").
func (s *Store) active(ending string) ([]network.FirewallNet, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []network.FirewallNet
	for _, n := range all {
		prefix, gw := Subnet(n)
		if !prefix.IsValid() {
			continue
		}
		sn := &net.IPNet{IP: prefix.Addr().AsSlice(), Mask: net.CIDRMask(prefix.Bits(), 32)}
		pool, err := ipam.OpenPool(s.Root, sn, gw.AsSlice())
		if err != nil {
			return nil, err
		}
		leases, err := pool.Leases()
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(leases, func(l ipam.Lease) bool { return l.ID != ending }) {
			out = append(out, network.FirewallNet{Bridge: Bridge(n), Subnet: pool.Subnet()})
		}
	}
	return out, nil
}

// lock takes an exclusive flock(2) on <root>/network/NAME; the kernel
// drops it if we die.
func (s *Store) lock(name string) (func(), error) {
	dir := filepath.Join(s.Root, "network")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// SyncFirewallMeanwhile starts SyncFirewallWithout(ending) on a
// goroutine of its own and returns the wait for its end; took gets the
// time it started, once it ends. Printed (ex), it runs at once instead,
// in the printed order.
//
// A new goroutine waits until its maker blocks, or until the other CPU
// takes it (a thread woken there: 0.5-1.4 ms on a small VM). When the
// sync is the longer of the two (ending: removing rules), its maker
// yields, so that it starts at once on this CPU.
func (s *Store) SyncFirewallMeanwhile(ending string, ex *explain.Printer, took func(start time.Time)) (wait func() error) {
	syncRules := func() error {
		defer took(time.Now())
		return s.SyncFirewallWithout(ending, ex)
	}
	if ex != nil {
		err := syncRules()
		return func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- syncRules() }()
	if ending != "" {
		runtime.Gosched()
	}
	return sync.OnceValue(func() error { return <-done })
}
