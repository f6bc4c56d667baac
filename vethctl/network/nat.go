package network

import (
	"fmt"
	"net"
	"os"
	"os/exec"

	"mini-docker/internal/explain"
)

// NAT is an outbound masquerading rule: packets from Subnet leaving
// through Out get Out's address as their source, so replies come back to
// the host, which un-NATs them to the container. Docker adds the same
// rule for docker0's subnet.
type NAT struct {
	Subnet *net.IPNet
	Out    string // outgoing interface, e.g. eth0
}

// rule is the iptables rule, without the -A/-D/-C verb.
func (n NAT) rule() []string {
	return []string{"-t", "nat", "POSTROUTING", "-s", n.Subnet.String(), "-o", n.Out, "-j", "MASQUERADE"}
}

// NATAdd turns on IPv4 forwarding and appends the masquerading rule,
// unless it is there already, in the caller's namespace (both are
// per network namespace). It returns how to remove the rule.
func NATAdd(n NAT, ex *explain.Printer) (undo func() error, err error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		return nil, fmt.Errorf("nat: iptables not found (install the iptables package)")
	}
	// The kernel routes packets between interfaces only when forwarding
	// is on; a new namespace starts with it off.
	ex.Cmd("sysctl -w net.ipv4.ip_forward=1")
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
		return nil, fmt.Errorf("nat: enable forwarding: %w", err)
	}
	if iptables(n, "-C", nil) == nil {
		return func() error { return NATDel(n, nil) }, nil
	}
	if err := iptables(n, "-A", ex); err != nil {
		return nil, fmt.Errorf("nat add %s via %s: %w", n.Subnet, n.Out, err)
	}
	return func() error { return NATDel(n, nil) }, nil
}

// NATDel removes the rule NATAdd added (forwarding stays on).
func NATDel(n NAT, ex *explain.Printer) error {
	if err := n.check(); err != nil {
		return err
	}
	if iptables(n, "-C", nil) != nil {
		return fmt.Errorf("nat del %s via %s: no such rule", n.Subnet, n.Out)
	}
	if err := iptables(n, "-D", ex); err != nil {
		return fmt.Errorf("nat del %s via %s: %w", n.Subnet, n.Out, err)
	}
	return nil
}

// iptables runs `iptables -t nat VERB POSTROUTING ...`. The rule lives in
// the namespace iptables runs in, which is ours: a child process starts
// in its parent thread's namespaces.
func iptables(n NAT, verb string, ex *explain.Printer) error {
	r := n.rule()
	return ipt(ex, append([]string{r[0], r[1], verb}, r[2:]...)...)
}

func (n NAT) check() error {
	if n.Subnet == nil || n.Subnet.IP.To4() == nil {
		return fmt.Errorf("nat: an IPv4 subnet is needed (--subnet CIDR)")
	}
	if err := checkLinkName(n.Out); err != nil {
		return fmt.Errorf("nat: --out: %w", err)
	}
	return nil
}
