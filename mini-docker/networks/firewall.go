package networks

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
	"mini-docker/pull/daemonjson"
	"mini-docker/vethctl/network"
)

// SyncFirewall makes the host's firewall hold the rules of every
// network whose bridge this network namespace has: a masquerading rule
// per network, so containers reach out through the host's interfaces,
// and isolation between networks, as Docker has them. The rules live as
// long as the bridge, as Docker's live as long as its network: made
// with the bridge, at its network's first container, and removed with
// it (network rm, network prune); the default bridge keeps its own, as
// docker0 does. A container's end changes nothing, and writes nothing:
// a transaction that removes rules makes the kernel wait until no
// packet can still be using them (7-15 ms here). daemon.json's
// "iptables": false turns this off, as it does Docker's.
//
// Every process that makes or removes a bridge calls it, under one
// lock, so the rules always follow the bridges.
func (s *Store) SyncFirewall(ex *explain.Printer) error {
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
	nets, err := s.bridged()
	if err != nil {
		return err
	}
	return network.SyncFirewall(backend, nets, ex)
}

// bridged lists the networks whose bridge the caller's network
// namespace has.
func (s *Store) bridged() ([]network.FirewallNet, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	links := network.LinkNames()
	var out []network.FirewallNet
	for _, n := range all {
		prefix, _ := Subnet(n)
		if !prefix.IsValid() || !links[Bridge(n)] {
			continue
		}
		sn := &net.IPNet{IP: prefix.Addr().AsSlice(), Mask: net.CIDRMask(prefix.Bits(), 32)}
		out = append(out, network.FirewallNet{Bridge: Bridge(n), Subnet: sn})
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

// SyncFirewallMeanwhile starts SyncFirewall on a goroutine of its own
// and returns the wait for its end; took gets the time it started, once
// it ends. Printed (ex), it runs at once instead, in the printed order.
func (s *Store) SyncFirewallMeanwhile(ex *explain.Printer, took func(start time.Time)) (wait func() error) {
	syncRules := func() error {
		defer took(time.Now())
		return s.SyncFirewall(ex)
	}
	if ex != nil {
		err := syncRules()
		return func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- syncRules() }()
	return sync.OnceValue(func() error { return <-done })
}
