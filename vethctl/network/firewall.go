package network

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// The firewall rules container networks need, as Docker and podman add
// them: a masquerading rule per bridge network (a packet from the
// network's subnet leaving by any other interface gets that interface's
// address as its source, and conntrack un-NATs the replies), and
// isolation between networks (a packet coming in from one network's
// bridge is not forwarded out of another's). The rules live in the
// namespace of the caller, in objects of their own that nothing else
// uses, so they can be rebuilt whole from the list of networks:
//
//	nftables: the table "ip mini-docker" (podman's netavark has "inet netavark")
//	iptables: the chains MINI-DOCKER-POSTROUTING (nat) and MINI-DOCKER-ISOLATION
//	          (filter), each with one jump to it (Docker has DOCKER-*)
//
// A host uses one or the other, as Docker and podman pick theirs:
// nftables when the kernel answers its netlink interface, iptables (the
// command) otherwise; daemon.json's "firewall-backend" picks one.

// Backend is a kernel firewall interface.
type Backend string

// The two backends.
const (
	Nftables Backend = "nftables"
	Iptables Backend = "iptables"
)

// FirewallTable names mini-docker's nftables table; the iptables chains
// are NATChain and IsolationChain.
const (
	FirewallTable  = "mini-docker"
	NATChain       = "MINI-DOCKER-POSTROUTING"
	IsolationChain = "MINI-DOCKER-ISOLATION"
)

// FirewallNet is one bridge network the rules serve.
type FirewallNet struct {
	Bridge string
	Subnet *net.IPNet
}

// DetectBackend returns the backend asked for ("" = detect): nftables
// if the kernel lists its tables over netlink, else iptables if the
// command is installed.
func DetectBackend(want string) (Backend, error) {
	switch Backend(want) {
	case Nftables, Iptables:
		return Backend(want), nil
	case "":
	default:
		return "", fmt.Errorf("firewall backend %q: want nftables or iptables", want)
	}
	if c, err := nftables.New(); err == nil {
		if _, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4); err == nil {
			return Nftables, nil
		}
	}
	if _, err := exec.LookPath("iptables"); err == nil {
		return Iptables, nil
	}
	return "", fmt.Errorf("no firewall: the kernel has no nf_tables and iptables is not installed (or set \"iptables\": false in daemon.json)")
}

// SyncFirewall makes the caller's namespace hold exactly the rules for
// nets: with none, mini-docker's table (or chains) is removed; with
// some, IPv4 forwarding is turned on too (the kernel routes between
// interfaces only then; like Docker, it is left on afterwards).
func SyncFirewall(b Backend, nets []FirewallNet, ex *explain.Printer) error {
	for _, n := range nets {
		if n.Subnet == nil || n.Subnet.IP.To4() == nil {
			return fmt.Errorf("firewall: network on %s: an IPv4 subnet is needed", n.Bridge)
		}
		if err := checkLinkName(n.Bridge); err != nil {
			return fmt.Errorf("firewall: %w", err)
		}
	}
	if len(nets) > 0 {
		ex.Cmd("sysctl -w net.ipv4.ip_forward=1")
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("firewall: enable forwarding: %w", err)
		}
	}
	if b == Iptables {
		return syncIptables(nets, ex)
	}
	return syncNftables(nets, ex)
}

// isolated lists the pairs (in, out) of bridges between which nothing is
// forwarded: every ordered pair of two different networks.
func isolated(nets []FirewallNet) [][2]string {
	var pairs [][2]string
	for _, a := range nets {
		for _, b := range nets {
			if a.Bridge != b.Bridge {
				pairs = append(pairs, [2]string{a.Bridge, b.Bridge})
			}
		}
	}
	return pairs
}

// NftRules returns the commands that make the rules for nets, as
// --explain prints them: each works whether or not the table is there
// already (add is idempotent for tables and chains; flush empties it).
func NftRules(nets []FirewallNet) []string {
	t := "ip " + FirewallTable
	out := []string{
		"nft add table " + t,
		"nft flush table " + t,
		"nft 'add chain " + t + " postrouting { type nat hook postrouting priority srcnat; }'",
		"nft 'add chain " + t + " forward { type filter hook forward priority filter; }'",
	}
	for _, n := range nets {
		out = append(out, fmt.Sprintf("nft add rule %s postrouting ip saddr %s oifname != %s masquerade", t, n.Subnet, n.Bridge))
	}
	for _, p := range isolated(nets) {
		out = append(out, fmt.Sprintf("nft add rule %s forward iifname %s oifname %s drop", t, p[0], p[1]))
	}
	return out
}

// syncNftables rewrites mini-docker's table in one netlink transaction
// (the batch NftRules prints), so no packet sees a half-made rule set;
// with no nets it deletes the table. When the table already holds
// exactly those chains and rules (another container of the same
// networks came or went), it writes nothing: a transaction that removes
// rules costs the kernel some 20 ms on this kind of machine (it waits
// until no packet can still be using them), against 1 ms to add them.
func syncNftables(nets []FirewallNet, ex *explain.Printer) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: FirewallTable}
	_, lerr := c.ListTableOfFamily(FirewallTable, nftables.TableFamilyIPv4)
	exists := lerr == nil
	if len(nets) == 0 {
		if !exists {
			return nil // not there: nothing of ours to remove
		}
		ex.Cmd("nft delete table ip %s", FirewallTable)
		c.DelTable(table)
	} else {
		want := nftTable(table, nets)
		if exists && want.holds(c) {
			ex.Note("nft: table ip %s holds these rules already (%d networks): nothing to change", FirewallTable, len(nets))
			return nil
		}
		for _, cmd := range NftRules(nets) {
			ex.Cmd("%s", cmd)
		}
		want.add(c)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: table ip %s: %w", FirewallTable, err)
	}
	return nil
}

// nftSet is mini-docker's table as data: its two base chains and their
// rules, as netlink expressions. The same value is written (add) and
// compared with what the kernel holds (holds).
type nftSet struct {
	table     *nftables.Table
	post, fwd *nftables.Chain
	postRules [][]expr.Any
	fwdRules  [][]expr.Any
}

// nftTable is NftRules(nets) as expressions: load a header field or
// an interface name into a register, compare it, and a verdict.
func nftTable(t *nftables.Table, nets []FirewallNet) *nftSet {
	s := &nftSet{table: t,
		post: &nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
		fwd: &nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter},
	}
	for _, n := range nets {
		s.postRules = append(s.postRules, []expr.Any{
			// ip saddr SUBNET: the source address (offset 12 of the IPv4
			// header), masked to the prefix, equals the network address.
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte(n.Subnet.Mask), Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(n.Subnet.IP.To4())},
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(n.Bridge)},
			&expr.Masq{},
		})
	}
	for _, p := range isolated(nets) {
		s.fwdRules = append(s.fwdRules, []expr.Any{
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(p[0])},
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(p[1])},
			&expr.Verdict{Kind: expr.VerdictDrop},
		})
	}
	return s
}

// add queues the whole table on c: made if missing, emptied, then
// filled.
func (s *nftSet) add(c *nftables.Conn) {
	c.AddTable(s.table)
	c.FlushTable(s.table)
	post, fwd := c.AddChain(s.post), c.AddChain(s.fwd)
	for _, r := range s.postRules {
		c.AddRule(&nftables.Rule{Table: s.table, Chain: post, Exprs: r})
	}
	for _, r := range s.fwdRules {
		c.AddRule(&nftables.Rule{Table: s.table, Chain: fwd, Exprs: r})
	}
}

// holds reports whether the kernel's table is s exactly: the same two
// chains (type, hook, priority) and, in each, the same rules in the
// same order. Anything else, or any error reading it, says no, and the
// table is rewritten.
func (s *nftSet) holds(c *nftables.Conn) bool {
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false
	}
	found := 0
	for _, ch := range chains {
		if ch.Table.Name != s.table.Name {
			continue
		}
		found++
		var want *nftables.Chain
		var rules [][]expr.Any
		switch ch.Name {
		case s.post.Name:
			want, rules = s.post, s.postRules
		case s.fwd.Name:
			want, rules = s.fwd, s.fwdRules
		default:
			return false
		}
		if !sameChain(ch, want) || !sameRules(c, ch, rules) {
			return false
		}
	}
	return found == 2
}

func sameChain(got, want *nftables.Chain) bool {
	return got.Type == want.Type && got.Hooknum != nil && *got.Hooknum == *want.Hooknum &&
		got.Priority != nil && *got.Priority == *want.Priority &&
		(got.Policy == nil || *got.Policy == nftables.ChainPolicyAccept)
}

func sameRules(c *nftables.Conn, ch *nftables.Chain, want [][]expr.Any) bool {
	got, err := c.GetRules(ch.Table, ch)
	if err != nil || len(got) != len(want) {
		return false
	}
	for i, r := range got {
		if !reflect.DeepEqual(r.Exprs, want[i]) {
			return false
		}
	}
	return true
}

// ifname is an interface name as the kernel compares it: IFNAMSIZ bytes,
// NUL-padded.
func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

// IptablesRules returns the rules for nets as iptables commands, after
// the chains are made and flushed and before the jumps to them.
func IptablesRules(nets []FirewallNet) [][]string {
	var out [][]string
	for _, n := range nets {
		out = append(out, []string{"-t", "nat", "-A", NATChain, "-s", n.Subnet.String(), "!", "-o", n.Bridge, "-j", "MASQUERADE"})
	}
	for _, p := range isolated(nets) {
		out = append(out, []string{"-t", "filter", "-A", IsolationChain, "-i", p[0], "-o", p[1], "-j", "DROP"})
	}
	return out
}

// iptablesChains are our chains, their table and the built-in chain that
// jumps to each.
var iptablesChains = []struct{ table, chain, from, add string }{
	{"nat", NATChain, "POSTROUTING", "-A"},
	{"filter", IsolationChain, "FORWARD", "-I"}, // before any ACCEPT of the host's
}

// syncIptables makes our chains hold the rules for nets, each reached by
// one jump; with no nets it removes the jumps and the chains.
func syncIptables(nets []FirewallNet, ex *explain.Printer) error {
	for _, c := range iptablesChains {
		exists := ipt(nil, "-t", c.table, "-n", "-L", c.chain) == nil
		jump := []string{"-t", c.table, "-C", c.from, "-j", c.chain}
		jumped := exists && ipt(nil, jump...) == nil
		if len(nets) == 0 {
			if jumped {
				if err := ipt(ex, "-t", c.table, "-D", c.from, "-j", c.chain); err != nil {
					return err
				}
			}
			if exists {
				if err := ipt(ex, "-t", c.table, "-F", c.chain); err != nil {
					return err
				}
				if err := ipt(ex, "-t", c.table, "-X", c.chain); err != nil {
					return err
				}
			}
			continue
		}
		verb := "-F"
		if !exists {
			verb = "-N"
		}
		if err := ipt(ex, "-t", c.table, verb, c.chain); err != nil {
			return err
		}
		for _, r := range IptablesRules(nets) {
			if r[1] == c.table {
				if err := ipt(ex, r...); err != nil {
					return err
				}
			}
		}
		if !jumped {
			if err := ipt(ex, "-t", c.table, c.add, c.from, "-j", c.chain); err != nil {
				return err
			}
		}
	}
	return nil
}

// ipt runs iptables (-w: wait for the xtables lock rather than fail when
// another iptables runs at the same moment) in the caller's namespace.
func ipt(ex *explain.Printer, args ...string) error {
	ex.Argv(append([]string{"iptables"}, args...)...)
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil {
		if _, lerr := exec.LookPath("iptables"); lerr != nil {
			return fmt.Errorf("iptables not found (install the iptables package)")
		}
		return fmt.Errorf("iptables %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return nil
}
