package network

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"mini-docker/internal/testenv"
)

// Every test here builds inside namespaces it made: one plays the host,
// others the containers. The real host namespace is only read, to check
// that nothing was left in it.

var testID = fmt.Sprintf("%04x", rand.Intn(0x10000))

// newNetns makes a named namespace for the test and deletes it after.
func newNetns(t *testing.T, role string) NS {
	t.Helper()
	name := "vt" + testID + "-" + role
	undo, err := NetnsAdd(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := undo(); err != nil {
			t.Errorf("delete netns %s: %v", name, err)
		}
	})
	return Named(name)
}

// setLoUp brings up lo in ns: a new namespace's lo is down, and then
// even 127.0.0.1 cannot be bound.
func setLoUp(t *testing.T, ns NS) {
	t.Helper()
	in(t, ns, func() error {
		h, err := NS{}.handle()
		if err != nil {
			return err
		}
		defer h.Close()
		return loUp(h, NS{}, nil)
	})
}

// in runs fn on a thread inside ns, failing the test on error.
func in(t *testing.T, ns NS, fn func() error) {
	t.Helper()
	if err := ns.Do(fn); err != nil {
		t.Fatal(err)
	}
}

// noLeaks checks, at the end of t, that the real host namespace has the
// same links, no new named namespace and the same nftables ruleset.
func noLeaks(t *testing.T) {
	t.Helper()
	links, nets, rules := hostState(t)
	t.Cleanup(func() {
		l2, n2, r2 := hostState(t)
		if l2 != links {
			t.Errorf("host links changed:\nbefore %s\nafter  %s", links, l2)
		}
		if n2 != nets {
			t.Errorf("named namespaces changed:\nbefore %s\nafter  %s", nets, n2)
		}
		if r2 != rules {
			t.Errorf("host nftables ruleset changed:\nbefore %q\nafter  %q", rules, r2)
		}
	})
}

func hostState(t *testing.T) (links, nets, rules string) {
	t.Helper()
	ll, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ll {
		names = append(names, l.Attrs().Name)
	}
	sort.Strings(names)
	return strings.Join(names, " "), ownNetns(), nftRuleset()
}

// ownNetns lists the named namespaces this test process made: tests of
// other packages may run at the same time and have their own.
func ownNetns() string {
	all, _ := NetnsList()
	var own []string
	for _, n := range all {
		if strings.HasPrefix(n, "vt"+testID+"-") {
			own = append(own, n)
		}
	}
	return strings.Join(own, " ")
}

func nftRuleset() string {
	out, _ := exec.Command("nft", "list", "ruleset").CombinedOutput()
	return string(out)
}

// serveTCP listens on addr inside ns and answers each connection's
// first line with "PREFIX got LINE". It stops with the test.
func serveTCP(t *testing.T, ns NS, addr, prefix string) net.Addr {
	t.Helper()
	var ln net.Listener
	in(t, ns, func() (err error) { ln, err = net.Listen("tcp", addr); return err })
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "%s got %s", prefix, line)
			}()
		}
	}()
	return ln.Addr()
}

// hello dials addr from inside ns, sends one line, returns the answer.
func hello(ns NS, addr, msg string) (string, error) {
	var answer string
	err := ns.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%s\n", msg)
		b, err := io.ReadAll(c)
		answer = string(b)
		return err
	})
	return answer, err
}

func linkNames(t *testing.T, ns NS) string {
	t.Helper()
	s, err := Show(ns)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range s.Links {
		names = append(names, l.Name)
	}
	return strings.Join(names, " ")
}

func cidr(t *testing.T, s string) *net.IPNet {
	t.Helper()
	n, err := ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNetnsAddIsSeenByIPNetns(t *testing.T) {
	testenv.Integration(t)
	ip := testenv.RequireCommand(t, "ip")
	noLeaks(t)
	name := "vt" + testID + "-named"
	undo, err := NetnsAdd(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NetnsAdd(name, nil); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding %s twice: %v, want 'already exists'", name, err)
	}
	out, code := testenv.Run(t, ip, "netns", "exec", name, "ip", "-o", "link")
	if code != 0 || !strings.Contains(out, "lo:") || strings.Count(out, "\n") != 1 {
		t.Errorf("ip netns exec %s ip -o link: exit %d, %q; want only lo", name, code, out)
	}
	if s, _ := Show(Named(name)); len(s.Links) != 1 || s.Links[0].Up {
		t.Errorf("a new namespace should hold only lo, down: %+v", s.Links)
	}
	if list, _ := NetnsList(); !strings.Contains(" "+strings.Join(list, " ")+" ", " "+name+" ") {
		t.Errorf("NetnsList() = %v, missing %s", list, name)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(NetnsDir + "/" + name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/%s still there after delete", NetnsDir, name)
	}
	if err := NetnsDel(name, nil); !errors.Is(err, ErrNoNetns) {
		t.Errorf("deleting a missing namespace: %v, want ErrNoNetns", err)
	}
}

// Done when: two namespaces joined by a veth exchange a TCP message.
func TestVethCarriesTCPBetweenTwoNamespaces(t *testing.T) {
	testenv.Integration(t)
	noLeaks(t)
	host, box := newNetns(t, "host"), newNetns(t, "box")
	in(t, host, func() error {
		_, err := CreateVeth(Veth{Host: "vt-veth0", Peer: "eth0", NS: box,
			Addr: cidr(t, "10.201.0.2/24"), PeerMAC: MACFor(net.ParseIP("10.201.0.2")), Gateway: net.ParseIP("10.201.0.1"), MTU: 1400}, nil)
		if err != nil {
			return err
		}
		return AddAddr(NS{}, "vt-veth0", cidr(t, "10.201.0.1/24"), nil)
	})
	var mac string
	in(t, box, func() error {
		l, err := netlink.LinkByName("eth0")
		if err == nil {
			mac = l.Attrs().HardwareAddr.String()
		}
		return err
	})
	if mac != "02:42:0a:c9:00:02" {
		t.Errorf("box's eth0 has MAC %q, want 02:42:0a:c9:00:02 (MACFor its address)", mac)
	}

	s, err := Show(box)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.Links); !strings.Contains(got, "lo device true  [127.0.0.1/8]") ||
		!strings.Contains(got, "eth0 veth true  [10.201.0.2/24]") {
		t.Errorf("box links: %s", got)
	}
	if !strings.Contains(strings.Join(s.Routes, "\n"), "default via 10.201.0.1 dev eth0") {
		t.Errorf("box routes lack the default route: %q", s.Routes)
	}

	serveTCP(t, box, "10.201.0.2:7000", "box")
	got, err := hello(host, "10.201.0.2:7000", "hello from host")
	if err != nil || got != "box got hello from host\n" {
		t.Fatalf("TCP across the veth: %q, %v", got, err)
	}
}

// Done when: three namespaces on a bridge reach each other and the
// bridge's address.
func TestBridgeJoinsThreeNamespaces(t *testing.T) {
	testenv.Integration(t)
	noLeaks(t)
	host := newNetns(t, "host")
	boxes := []NS{newNetns(t, "c1"), newNetns(t, "c2"), newNetns(t, "c3")}
	in(t, host, func() error {
		if _, err := AddBridge("vt-br0", cidr(t, "10.202.0.1/24"), nil); err != nil {
			return err
		}
		for i, b := range boxes {
			v := Veth{Host: fmt.Sprintf("vt-c%d", i+1), Peer: "eth0", NS: b, Bridge: "vt-br0",
				Addr: cidr(t, fmt.Sprintf("10.202.0.%d/24", i+2)), Gateway: net.ParseIP("10.202.0.1")}
			if _, err := CreateVeth(v, nil); err != nil {
				return err
			}
		}
		return nil
	})
	// EnsureBridge on an existing, complete bridge changes nothing.
	in(t, host, func() error {
		_, created, err := EnsureBridge("vt-br0", cidr(t, "10.202.0.1/24"), nil)
		if created {
			return errors.New("EnsureBridge re-created an existing bridge")
		}
		return err
	})

	serveTCP(t, host, "10.202.0.1:7000", "bridge")
	for i, b := range boxes {
		serveTCP(t, b, fmt.Sprintf("10.202.0.%d:7000", i+2), fmt.Sprintf("c%d", i+1))
	}
	for i, from := range boxes {
		for j := range boxes {
			if i == j {
				continue
			}
			got, err := hello(from, fmt.Sprintf("10.202.0.%d:7000", j+2), "hi")
			if want := fmt.Sprintf("c%d got hi\n", j+1); err != nil || got != want {
				t.Errorf("c%d -> c%d: %q, %v; want %q", i+1, j+1, got, err, want)
			}
		}
		if got, err := hello(from, "10.202.0.1:7000", "hi"); err != nil || got != "bridge got hi\n" {
			t.Errorf("c%d -> bridge address: %q, %v", i+1, got, err)
		}
	}
	in(t, host, func() error {
		s, err := Show(NS{})
		if err != nil {
			return err
		}
		for _, l := range s.Links {
			if strings.HasPrefix(l.Name, "vt-c") && l.Master != "vt-br0" {
				return fmt.Errorf("%s is not attached to vt-br0: %+v", l.Name, l)
			}
		}
		return nil
	})
}

// Bad input is refused before anything is made, and a failure after
// the pair exists removes it: no stray veth on either side.
func TestCreateVethFailuresLeaveNothing(t *testing.T) {
	testenv.Integration(t)
	noLeaks(t)
	host, box := newNetns(t, "host"), newNetns(t, "box")
	in(t, host, func() error {
		_, err := CreateVeth(Veth{Host: "vt-a", Peer: "eth0", NS: box,
			Addr: cidr(t, "10.204.0.2/24"), Gateway: net.ParseIP("10.204.0.1")}, nil)
		return err
	})
	hostBefore, boxBefore := linkNames(t, host), linkNames(t, box)

	tests := []struct {
		name string
		v    Veth
		want string
	}{
		{"host name taken", Veth{Host: "vt-a", Peer: "eth1", NS: box}, "already exists"},
		{"peer name taken in the namespace", Veth{Host: "vt-b", Peer: "eth0", NS: box}, "already exists in netns"},
		{"missing namespace", Veth{Host: "vt-b", Peer: "eth1", NS: Named("vt-no-such-ns")}, "network namespace not found"},
		{"dead pid", Veth{Host: "vt-b", Peer: "eth1", NS: OfPID(1 << 30)}, "no process with pid"},
		{"missing bridge", Veth{Host: "vt-b", Peer: "eth1", NS: box, Bridge: "vt-nobr"}, "no bridge named vt-nobr"},
		{"name too long", Veth{Host: "vt-0123456789abcdef", Peer: "eth1", NS: box}, "invalid link name"},
		{"gateway off subnet", Veth{Host: "vt-b", Peer: "eth1", NS: box,
			Addr: cidr(t, "10.205.0.2/24"), Gateway: net.ParseIP("10.9.9.9")}, "outside"},
		// This one fails late: the box has a default route already, so
		// adding a second one is refused after the pair was made, moved,
		// renamed and addressed. The undo must remove it all.
		{"second default route", Veth{Host: "vt-b", Peer: "eth1", NS: box,
			Addr: cidr(t, "10.205.0.2/24"), Gateway: net.ParseIP("10.205.0.1")}, "add default route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			host.Do(func() error { _, err = CreateVeth(tc.v, nil); return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
			if got := linkNames(t, host); got != hostBefore {
				t.Errorf("host links: %s, want %s", got, hostBefore)
			}
			if got := linkNames(t, box); got != boxBefore {
				t.Errorf("box links: %s, want %s", got, boxBefore)
			}
		})
	}
}

// Done when: a forward from 127.0.0.1:PORT in the test host namespace
// reaches a server inside a container namespace, over the default
// bridge (what mini-docker -p does) and, for UDP too.
func TestForwardFromHostLoopbackToContainer(t *testing.T) {
	testenv.Integration(t)
	noLeaks(t)
	host, box := newNetns(t, "host"), newNetns(t, "box")
	setLoUp(t, host)
	var fw, fwUDP *Forwarder
	in(t, host, func() error {
		if _, _, err := EnsureBridge(DefaultBridge, DefaultBridgeAddr(), nil); err != nil {
			return err
		}
		_, err := CreateVeth(Veth{Host: "vt-veth", Peer: "eth0", NS: box, Bridge: DefaultBridge,
			Addr: cidr(t, "172.18.0.2/16"), Gateway: net.ParseIP(DefaultGateway)}, nil)
		return err
	})
	serveTCP(t, box, "0.0.0.0:8000", "container")
	var udp net.PacketConn
	in(t, box, func() (err error) { udp, err = net.ListenPacket("udp", "0.0.0.0:8000"); return err })
	defer udp.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			udp.WriteTo(append([]byte("container got "), buf[:n]...), from)
		}
	}()

	// Started from the host's locked thread, with zero namespaces: the
	// forwarder captures the caller's namespace for both sides.
	in(t, host, func() (err error) {
		if fw, err = StartForward(Forward{Proto: "tcp", Listen: "127.0.0.1:0", Target: "172.18.0.2:8000"}, nil); err != nil {
			return err
		}
		fwUDP, err = StartForward(Forward{Proto: "udp", Listen: "127.0.0.1:0", Target: "172.18.0.2:8000"}, nil)
		return err
	})
	defer fw.Close()
	defer fwUDP.Close()

	got, err := hello(host, fw.Addr().String(), "hello via -p")
	if err != nil || got != "container got hello via -p\n" {
		t.Fatalf("TCP through the forward: %q, %v", got, err)
	}
	in(t, host, func() error {
		c, err := net.Dial("udp", fwUDP.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 512)
		for try := 0; try < 5; try++ { // UDP may drop: a few bounded tries
			c.Write([]byte("ping"))
			c.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := c.Read(buf); err == nil {
				if string(buf[:n]) != "container got ping" {
					return fmt.Errorf("UDP answer %q", buf[:n])
				}
				return nil
			}
		}
		return errors.New("no UDP answer through the forward")
	})

	// The same port again: refused, with the kernel's reason.
	in(t, host, func() error {
		_, err := StartForward(Forward{Proto: "tcp", Listen: fw.Addr().String(), Target: "172.18.0.2:8000"}, nil)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("second forward on %s: %v, want 'address already in use'", fw.Addr(), err)
		}
		return nil
	})
}

// The listening side in one namespace and the target dialed from
// another: the container's own loopback, unreachable from the host.
func TestForwardAcrossNamespaces(t *testing.T) {
	testenv.Integration(t)
	noLeaks(t)
	host, box := newNetns(t, "host"), newNetns(t, "box")
	setLoUp(t, host)
	setLoUp(t, box)
	serveTCP(t, box, "127.0.0.1:9000", "box-loopback")
	fw, err := StartForward(Forward{Proto: "tcp", Listen: "127.0.0.1:0", Target: "127.0.0.1:9000",
		ListenNS: host, TargetNS: box}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	got, err := hello(host, fw.Addr().String(), "across")
	if err != nil || got != "box-loopback got across\n" {
		t.Fatalf("%q, %v", got, err)
	}
	// Close ends the relay: the port is free again.
	fw.Close()
	in(t, host, func() error {
		ln, err := net.Listen("tcp", fw.Addr().String())
		if err != nil {
			return fmt.Errorf("port still taken after Close: %w", err)
		}
		return ln.Close()
	})
}

// NAT rules are made only inside the test's host namespace, and removed.
func TestNATAddDelInsideTestNamespace(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "iptables")
	noLeaks(t)
	host := newNetns(t, "host")
	n := NAT{Subnet: mustSubnet(t, "10.206.0.0/24"), Out: "vt-out0"}
	rules := func() string {
		var out []byte
		in(t, host, func() (err error) {
			out, err = exec.Command("iptables", "-w", "-t", "nat", "-S", "POSTROUTING").CombinedOutput()
			return err
		})
		return string(out)
	}
	in(t, host, func() error { _, err := NATAdd(n, nil); return err })
	in(t, host, func() error { _, err := NATAdd(n, nil); return err }) // idempotent
	want := "-A POSTROUTING -s 10.206.0.0/24 -o vt-out0 -j MASQUERADE"
	if got := rules(); strings.Count(got, want) != 1 {
		t.Fatalf("after nat add, POSTROUTING is:\n%s\nwant once: %s", got, want)
	}
	in(t, host, func() error { return NATDel(n, nil) })
	if got := rules(); strings.Contains(got, "MASQUERADE") {
		t.Fatalf("after nat del, POSTROUTING still has:\n%s", got)
	}
	in(t, host, func() error {
		if err := NATDel(n, nil); err == nil || !strings.Contains(err.Error(), "no such rule") {
			return fmt.Errorf("deleting a missing rule: %v", err)
		}
		return nil
	})
}
