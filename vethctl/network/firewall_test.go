package network

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/explain"
	"mini-docker/internal/testenv"
)

// The firewall's rules, made in a namespace that plays the host: two
// bridge networks, one container on each, and an "internet" namespace
// behind a veth whose address has no route back to the containers'
// subnets. Through the NAT a container reaches the internet (which sees
// the host's address), the two networks do not reach each other, and
// removing the rules leaves the host's rule set as it was.
func TestSyncFirewallNATAndIsolation(t *testing.T) {
	testenv.Integration(t)
	for _, b := range []Backend{Nftables, Iptables} {
		t.Run(string(b), func(t *testing.T) {
			if b == Iptables {
				testenv.RequireCommand(t, "iptables")
			}
			testSyncFirewall(t, b)
		})
	}
}

func testSyncFirewall(t *testing.T, b Backend) {
	noLeaks(t)
	host, inet := newNetns(t, "host"), newNetns(t, "inet")
	ca, cb := newNetns(t, "ca"), newNetns(t, "cb")
	nets := []FirewallNet{{"vt-bra", cidr(t, "10.207.1.0/24")}, {"vt-brb", cidr(t, "10.207.2.0/24")}}
	in(t, host, func() error {
		for i, n := range nets {
			if _, err := AddBridge(n.Bridge, cidr(t, fmt.Sprintf("10.207.%d.1/24", i+1)), nil); err != nil {
				return err
			}
			v := Veth{Host: fmt.Sprintf("vt-c%d", i), Peer: "eth0", NS: []NS{ca, cb}[i], Bridge: n.Bridge,
				Addr: cidr(t, fmt.Sprintf("10.207.%d.2/24", i+1)), Gateway: net.ParseIP(fmt.Sprintf("10.207.%d.1", i+1))}
			if _, err := CreateVeth(v, nil); err != nil {
				return err
			}
		}
		// The internet: 192.0.2.2, reached through the host's 192.0.2.1.
		_, err := CreateVeth(Veth{Host: "vt-wan", Peer: "eth0", NS: inet, Addr: cidr(t, "192.0.2.2/24")}, nil)
		if err == nil {
			err = AddAddr(NS{}, "vt-wan", cidr(t, "192.0.2.1/24"), nil)
		}
		return err
	})
	before := ruleset(t, host, b)
	serveSource(t, inet, "192.0.2.2:7000")
	serveSource(t, cb, "10.207.2.2:7000")

	in(t, host, func() error { return SyncFirewall(b, nets, nil) })
	in(t, host, func() error { return SyncFirewall(b, nets, nil) }) // idempotent
	after := ruleset(t, host, b)
	for _, want := range firewallMarks(b) {
		if strings.Count(after, want) != 1 {
			t.Errorf("after sync, the %s rule set has %q %d times, want once:\n%s", b, want, strings.Count(after, want), after)
		}
	}
	if got, err := hello(ca, "192.0.2.2:7000", "hi"); err != nil || got != "from 192.0.2.1\n" {
		t.Errorf("container a -> internet through the NAT: %q, %v; want the host's address as source", got, err)
	}
	if got, err := quickHello(ca, "10.207.2.2:7000"); err == nil {
		t.Errorf("network a reached network b (%q): not isolated", got)
	}

	in(t, host, func() error { return SyncFirewall(b, nil, nil) })
	if got := ruleset(t, host, b); got != before {
		t.Errorf("after removing the rules, the %s rule set is\n%s\nwant, as before\n%s", b, got, before)
	}
	if got, err := quickHello(ca, "192.0.2.2:7000"); err == nil {
		t.Errorf("container a reached the internet without NAT: %q", got)
	}
	// Without the isolation rule the host routes between its bridges.
	if got, err := hello(ca, "10.207.2.2:7000", "hi"); err != nil || got != "from 10.207.1.2\n" {
		t.Errorf("a -> b without the isolation rule: %q, %v", got, err)
	}
}

// firewallMarks are parts of the rules SyncFirewall makes, as the
// backend's own listing prints them.
func firewallMarks(b Backend) []string {
	if b == Iptables {
		return []string{"-A MINI-DOCKER-POSTROUTING -s 10.207.1.0/24 ! -o vt-bra -j MASQUERADE",
			"-A MINI-DOCKER-ISOLATION -i vt-bra -o vt-brb -j DROP", "-A POSTROUTING -j MINI-DOCKER-POSTROUTING",
			"-A FORWARD -j MINI-DOCKER-ISOLATION"}
	}
	return []string{"table ip mini-docker", `ip saddr 10.207.2.0/24 oifname != "vt-brb" masquerade`,
		`iifname "vt-brb" oifname "vt-bra" drop`}
}

// ruleset is the host namespace's whole rule set, as the backend lists it.
func ruleset(t *testing.T, ns NS, b Backend) string {
	t.Helper()
	argv := []string{"nft", "list", "ruleset"}
	if b == Iptables {
		argv = []string{"sh", "-c", "iptables-save -t nat; iptables-save -t filter"}
	}
	var out []byte
	in(t, ns, func() (err error) {
		out, err = exec.Command(argv[0], argv[1:]...).CombinedOutput()
		return err
	})
	// iptables-save stamps its output with the time and counters.
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, strings.Split(l, " [")[0])
		}
	}
	return strings.Join(keep, "\n")
}

// serveSource listens on addr in ns and answers with the source
// address of each connection (testenv.ServeSource).
func serveSource(t *testing.T, ns NS, addr string) {
	t.Helper()
	var ln net.Listener
	in(t, ns, func() (err error) { ln, err = net.Listen("tcp", addr); return err })
	t.Cleanup(func() { ln.Close() })
	go testenv.ServeSource(ln)
}

// quickHello is a connection expected to fail: a dropped SYN is never
// answered, so it gives up after two seconds (a slow machine cannot
// make a dropped packet arrive).
func quickHello(ns NS, addr string) (string, error) {
	var got string
	err := ns.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "hi\n")
		b := make([]byte, 64)
		n, _ := c.Read(b)
		got = string(b[:n])
		return nil
	})
	return got, err
}

// TestSyncFirewallWritesOnlyAChange: a sync that finds mini-docker's
// table as it should be leaves it alone (the kernel's rule handles stay
// the same, and --explain says so); a table changed by hand, or a new
// network, is rewritten whole.
func TestSyncFirewallWritesOnlyAChange(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "nft")
	host := newNetns(t, "fwonly")
	one := []FirewallNet{{"vt-bra", cidr(t, "10.207.1.0/24")}}
	two := append(one, FirewallNet{"vt-brb", cidr(t, "10.207.2.0/24")})
	table := func() string { // with the handles (-a) the kernel gave each rule
		var out []byte
		in(t, host, func() (err error) {
			out, err = exec.Command("nft", "-a", "list", "table", "ip", FirewallTable).CombinedOutput()
			return err
		})
		return string(out)
	}
	sync := func(nets []FirewallNet) string {
		var ex strings.Builder
		in(t, host, func() error { return SyncFirewall(Nftables, nets, explain.New(&ex)) })
		return ex.String()
	}

	if ex := sync(one); !strings.Contains(ex, "+ nft add rule ip mini-docker postrouting ip saddr 10.207.1.0/24") {
		t.Errorf("first sync printed no rule:\n%s", ex)
	}
	first := table()
	if ex := sync(one); strings.Contains(ex, "+ nft") || !strings.Contains(ex, "# nft: table ip mini-docker holds these rules already") {
		t.Errorf("second sync of the same networks printed:\n%s", ex)
	}
	if again := table(); again != first {
		t.Errorf("an unchanged table was rewritten:\nbefore\n%s\nafter\n%s", first, again)
	}

	in(t, host, func() error { return exec.Command("nft", "flush", "chain", "ip", FirewallTable, "postrouting").Run() })
	if ex := sync(one); !strings.Contains(ex, "+ nft add rule ip mini-docker postrouting") {
		t.Errorf("sync after a flush by hand printed no rule:\n%s", ex)
	}
	if got := table(); !strings.Contains(got, `ip saddr 10.207.1.0/24 oifname != "vt-bra" masquerade`) {
		t.Errorf("the masquerade rule flushed by hand is not back:\n%s", got)
	}

	sync(two)
	if got := table(); !strings.Contains(got, `iifname "vt-bra" oifname "vt-brb" drop`) {
		t.Errorf("a second network brought no isolation rule:\n%s", got)
	}
	sync(nil)
	in(t, host, func() error {
		if out, err := exec.Command("nft", "list", "tables").CombinedOutput(); err != nil || len(out) > 0 {
			return fmt.Errorf("with no network left, nft list tables: %v %q", err, out)
		}
		return nil
	})
}
