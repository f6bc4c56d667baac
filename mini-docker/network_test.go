package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"mini-docker/internal/testenv"
	"mini-docker/vethctl/network"
)

// The test "internet": a namespace behind a veth from the namespace
// playing the host (192.0.2.1 there, 192.0.2.2 in it). It has no route
// back to any container subnet, so only masqueraded packets get
// answers. It runs a TCP server on :7000 that answers "from SOURCE" and
// a DNS server on :53 that answers example.test with 192.0.2.80.
const (
	internetAddr = "192.0.2.2"
	internetName = "example.test"
	internetA    = "192.0.2.80"
)

func (h *harness) internet() {
	h.t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "mdi-" + hex.EncodeToString(b)
	undo, err := network.NetnsAdd(name, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		exec.Command("ip", "-n", h.netns, "link", "del", "md-wan").Run()
		undo()
	})
	inet := network.Named(name)
	err = network.Named(h.netns).Do(func() error {
		v := network.Veth{Host: "md-wan", Peer: "eth0", NS: inet, Addr: &net.IPNet{IP: net.ParseIP(internetAddr), Mask: net.CIDRMask(24, 32)}}
		if _, err := network.CreateVeth(v, nil); err != nil {
			return err
		}
		return network.AddAddr(network.NS{}, "md-wan", &net.IPNet{IP: net.ParseIP("192.0.2.1"), Mask: net.CIDRMask(24, 32)}, nil)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var ln net.Listener
	var pc net.PacketConn
	err = inet.Do(func() (err error) {
		exec.Command("ip", "link", "set", "lo", "up").Run()
		if ln, err = net.Listen("tcp", internetAddr+":7000"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp", internetAddr+":53")
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { ln.Close(); pc.Close() })
	go testenv.ServeSource(ln)
	go serveDNS(pc)
	h.before = h.snap() // the wan veth is the test's, not a run's
}

// serveDNS answers A queries for example.test with 192.0.2.80, and
// every other name with NXDOMAIN.
func serveDNS(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		hdr, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		reply := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError})
		found := strings.EqualFold(q.Name.String(), internetName+".") && q.Type == dnsmessage.TypeA
		if found || strings.EqualFold(q.Name.String(), internetName+".") {
			reply = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true})
		}
		reply.StartQuestions()
		reply.Question(q)
		if found {
			reply.StartAnswers()
			reply.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
				dnsmessage.AResource{A: [4]byte(net.ParseIP(internetA).To4())})
		}
		if msg, err := reply.Finish(); err == nil {
			pc.WriteTo(msg, from)
		}
	}
}

// reachInternet is a container's probe of the internet: a TCP line and
// a DNS query, each bounded (a dropped packet is never answered).
const reachInternet = "echo hi | nc -w 10 " + internetAddr + " 7000; nslookup " + internetName + " " + internetAddr + " 2>&1"

// rules is the nftables rule set of the namespace playing the host.
func (h *harness) rules() string {
	out, _ := exec.Command("ip", "netns", "exec", h.netns, "nft", "list", "ruleset").CombinedOutput()
	return string(out)
}

// assertRulesGone fails when the rule set still names one of subnets,
// or a user network's bridge: after network rm, the networks' rules go
// with their bridges.
func (h *harness) assertRulesGone(subnets ...string) {
	h.t.Helper()
	got := h.rules()
	for _, sn := range append(subnets, "mdbr-") {
		if strings.Contains(got, sn) {
			h.t.Errorf("after network rm, the rule set still names %s:\n%s", sn, got)
		}
	}
}

// Done when: from a container on the default bridge, a TCP connection
// and a DNS query to the internet succeed through the NAT; with NAT
// turned off ("iptables": false) they fail. The rules live as long as
// the bridge, as Docker's live as long as docker0: a container's end,
// the last one's included, a SIGKILLed run and system prune leave them
// as they are; the bridge deleted, the next sync removes them.
func TestDefaultBridgeNATToInternet(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.internet()
	before := h.rules()

	// NAT off: the first run makes the bridge, and no rule.
	off := filepath.Join(t.TempDir(), "daemon.json")
	os.WriteFile(off, []byte(`{"iptables": false}`), 0o644)
	cmd := h.command(true, "run", "--rm", "--explain", ref, "sh", "-c", "echo hi | nc -w 3 "+internetAddr+" 7000; nslookup -timeout=3 "+internetName+" "+internetAddr+" || echo lookup failed")
	cmd.Env = append(cmd.Env, "MINI_DOCKER_CONFIG="+off)
	out, errOut, _ := runCmd(t, cmd)
	if strings.Contains(out, "from ") || strings.Contains(out, internetA) || !strings.Contains(errOut, `# no NAT or isolation rules: "iptables": false in `+off) {
		t.Errorf("with \"iptables\": false the container reached the internet or --explain did not say so:\n%s%s", out, errOut)
	}
	if got := h.rules(); got != before {
		t.Errorf("with \"iptables\": false the rule set changed:\n%s", got)
	}

	out, errOut, code := h.md("run", "--rm", ref, "sh", "-c", reachInternet)
	if code != 0 || !strings.Contains(out, "from 192.0.2.1\n") || !strings.Contains(out, internetA) {
		t.Errorf("through the NAT: exit %d, want the host's address as the source and %s for %s:\n%s%s", code, internetA, internetName, out, errOut)
	}
	with := h.rules()
	if !strings.Contains(with, `ip saddr 172.18.0.0/16 oifname != "mini-docker0" masquerade`) {
		t.Errorf("after the last container, the bridge stays, and its masquerading rule should too:\n%s", with)
	}

	// Containers come and go; the rules do not change.
	h.must("run", "-d", "--name", "stay", ref, "sleep", "1000")
	h.must("run", "--rm", ref, "true")
	if out, _, _ := h.md("exec", "stay", "sh", "-c", reachInternet); !strings.Contains(out, "from 192.0.2.1\n") {
		t.Errorf("the container left on the network no longer reaches the internet through the NAT: %q", out)
	}
	h.must("rm", "-f", "stay")
	if got := h.rules(); got != with {
		t.Errorf("after containers came and went, the rule set is\n%s\nwant, as before them\n%s", got, with)
	}

	// A SIGKILLed run keeps its lease until system prune; the rules stay.
	kill := h.command(true, "run", "--name", "killed", ref, "sleep", "1000")
	if err := kill.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for out, _, _ := h.md("ps", "-q", "-f", "name=killed"); out == ""; out, _, _ = h.md("ps", "-q", "-f", "name=killed") {
		if time.Now().After(deadline) {
			t.Fatal("the run to kill never showed in ps")
		}
		time.Sleep(20 * time.Millisecond)
	}
	kill.Process.Signal(syscall.SIGKILL)
	kill.Wait()
	h.must("system", "prune", "-f")
	if got := h.rules(); got != with {
		t.Errorf("after a SIGKILLed run and system prune, the rule set is\n%s\nwant\n%s", got, with)
	}
	h.assertNoLeaks()

	// The bridge gone (by hand), the next sync takes its rules.
	if out, err := exec.Command("ip", "-n", h.netns, "link", "del", "mini-docker0").CombinedOutput(); err != nil {
		t.Fatalf("ip link del mini-docker0: %v: %s", err, out)
	}
	h.must("network", "prune", "-f")
	if got := h.rules(); got != before {
		t.Errorf("after the bridge was deleted and network prune, the rule set is\n%s\nwant, as before\n%s", got, before)
	}
}

// httpGet is a shell line that fetches / from HOST port 80 with nc.
func httpGet(host string) string {
	return `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 10 ` + host + ` 80`
}

// serveName is a container command serving "hello from NAME" on :80.
func serveName(name string) string {
	return "echo hello from " + name + " > /tmp/index.html; exec httpd -f -p 80 -h /tmp"
}

// Done when: two containers on a user network reach each other by name
// (TCP both ways), a third on another network cannot, and all three
// reach the internet namespace; names follow a container that stops and
// starts; a network in use cannot be removed.
func TestUserNetworksByName(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.internet()
	before := h.rules()
	h.must("network", "create", "app")
	h.must("network", "create", "other")
	h.must("run", "-d", "--name", "db", "--network", "app", "--network-alias", "database", ref, "sh", "-c", serveName("db"))
	h.must("run", "-d", "--name", "web", "--network", "app", ref, "sh", "-c", serveName("web"))
	fetch := func(from, to, want string) {
		t.Helper()
		var out string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if out, _, _ = h.md("exec", from, "sh", "-c", httpGet(to)); strings.Contains(out, want) {
				return
			}
		}
		t.Errorf("%s -> %s: %q, want %q", from, to, out, want)
	}
	fetch("web", "db", "hello from db")
	fetch("db", "web", "hello from web")
	fetch("web", "database", "hello from db") // run's --network-alias
	if got := h.must("inspect", "-f", "{{.NetworkSettings.Networks.app.Aliases}}", "db"); got != "[database]\n" {
		t.Errorf("inspect db: aliases %q, want [database]", got)
	}
	for _, c := range []string{"web", "db"} {
		if out, _, _ := h.md("exec", c, "sh", "-c", reachInternet); !strings.Contains(out, "from 192.0.2.1\n") {
			t.Errorf("%s -> internet: %q", c, out)
		}
	}
	dbIP := strings.TrimSpace(h.must("inspect", "-f", "{{.NetworkSettings.Networks.app.IPAddress}}", "db"))
	// eth0's MAC comes from its address, as Docker's did: the same
	// address, the same MAC, whoever had it before.
	wantMAC := network.MACFor(net.ParseIP(dbIP)).String()
	if got := h.must("inspect", "-f", "{{.NetworkSettings.Networks.app.MacAddress}}", "db"); got != wantMAC+"\n" {
		t.Errorf("inspect db: MacAddress %q, want %s", got, wantMAC)
	}
	if got, _, _ := h.md("exec", "db", "cat", "/sys/class/net/eth0/address"); got != wantMAC+"\n" {
		t.Errorf("db's eth0 address %q, want %s", got, wantMAC)
	}
	// A --rm container that ends is taken out of its neighbours' files
	// (its own goes with its folder).
	h.must("run", "--rm", "--name", "brief", "--network", "app", ref, "sh", "-c", "grep -q db /etc/hosts")
	if out := h.must("exec", "db", "cat", "/etc/hosts"); strings.Contains(out, "brief") {
		t.Errorf("db's /etc/hosts still names brief, ended and removed:\n%s", out)
	}
	third := "nc -w 3 db 80 </dev/null && echo reached db by name; " + httpGet(dbIP) + " -w 3 && echo reached db by address; " + reachInternet
	out, _, _ := h.md("run", "--rm", "--network", "other", ref, "sh", "-c", third)
	if strings.Contains(out, "reached db") || !strings.Contains(out, "from 192.0.2.1\n") {
		t.Errorf("from network other: %q; want no way to db (%s), and the internet", out, dbIP)
	}
	if got := h.must("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "app"); got != "db web \n" && got != "web db \n" {
		t.Errorf("network inspect app: containers %q", got)
	}
	// The docker CLI's template functions, json among them.
	if got := h.must("network", "inspect", "-f", "{{json .Name}} {{upper .Driver}}", "app"); got != "\"app\" BRIDGE\n" {
		t.Errorf("network inspect -f '{{json .Name}} {{upper .Driver}}' app: %q", got)
	}

	// Names follow a container that stops and starts.
	h.must("stop", "-t", "1", "db")
	h.must("start", "db")
	fetch("web", "db", "hello from db")

	_, errOut, code := h.md("network", "rm", "app")
	if code != 1 || !strings.Contains(errOut, "has active endpoints") {
		t.Errorf("network rm of a network in use: exit %d %q", code, errOut)
	}
	h.must("rm", "-f", "db", "web")
	h.must("network", "rm", "app", "other")
	if got := h.rules(); got != before {
		t.Errorf("after network rm of the only two networks used, the rule set is\n%s\nwant\n%s", got, before)
	}
	h.assertNoLeaks()
}

// Bad input: Docker's messages and exit codes, nothing half-made.
func TestNetworkBadInput(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.31.0.0/24", "lab")
	h.must("network", "create", "auto")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"network", "create", "lab"}, 1, "network with name lab already exists"},
		{[]string{"network", "create", "--subnet", "10.31.0.128/25", "lab2"}, 1, "Pool overlaps with other one on this address space"},
		{[]string{"network", "create", "--subnet", "10.32.0.0/24", "--gateway", "10.33.0.1", "lab3"}, 1, "invalid gateway"},
		{[]string{"network", "create", "--subnet", "10.32.0.0/24", "--gateway", "10.32.0.255", "lab3"}, 1, "failed to allocate gateway (10.32.0.255): Address already in use"},
		{[]string{"network", "create", "--subnet", "10.32.0.0/24", "--gateway", "10.32.0.0", "lab3"}, 1, "failed to allocate gateway (10.32.0.0): Address already in use"},
		{[]string{"network", "create", "bad/name"}, 1, "invalid network name"},
		{[]string{"network", "create", "host"}, 1, "predefined host network"},
		{[]string{"network", "rm", "nosuch"}, 1, "network nosuch not found"},
		{[]string{"network", "rm", "bridge"}, 1, "pre-defined network"},
		{[]string{"run", "--rm", "--network", "nosuch", ref, "true"}, 125, "network nosuch not found"},
		{[]string{"run", "--rm", "--network-alias", "x", ref, "true"}, 125, "network-scoped alias is supported only for containers in user defined networks"},
		{[]string{"run", "--rm", "--network", "lab", "--network-alias", "a b", ref, "true"}, 125, `invalid alias "a b"`},
		{[]string{"run", "--rm", "--ip", "172.18.0.9", ref, "true"}, 125, "user specified IP address is supported on user defined networks only"},
		{[]string{"run", "--rm", "--network", "auto", "--ip", "172.19.0.9", ref, "true"}, 125, "user specified IP address is supported only when connecting to networks with user configured subnets"},
		{[]string{"run", "--rm", "--network", "lab", "--ip", "10.31.1.9", ref, "true"}, 125, "no configured subnet or ip-range contain the IP address 10.31.1.9"},
		{[]string{"run", "--rm", "--network", "lab", "--ip", "10.31.0.1", ref, "true"}, 125, "Address already in use"}, // the gateway
		{[]string{"run", "--rm", "--network", "lab", "--ip", "10.31.0.x", ref, "true"}, 125, "invalid IPv4 address: 10.31.0.x"},
		{[]string{"run", "--rm", "--mac-address", "92:d0:c6:0a:29", ref, "true"}, 125, "92:d0:c6:0a:29 is not a valid mac address"},
		{[]string{"run", "--rm", "--network", "none", "--mac-address", "92:d0:c6:0a:29:33", ref, "true"}, 125, "conflicting options: mac-address and the network mode"},
	} {
		_, errOut, code := h.md(c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	if got := h.must("network", "ls"); !strings.Contains(got, " lab ") {
		t.Errorf("network ls: %q", got)
	}
	h.must("network", "prune", "-f")
	if _, _, code := h.md("network", "inspect", "lab"); code != 1 {
		t.Errorf("lab is still there after network prune")
	}
	h.assertNoLeaks()
}

// Done when: -P with an EXPOSE'd image publishes a free port that port
// reports and that forwards; 20 parallel run -P get 20 different ports.
func TestPublishAllPorts(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+ref+"\nEXPOSE 80\n"), 0o644)
	h.must("build", "-t", "exposed:1", dir)
	h.must("run", "-d", "--name", "web", "-P", "exposed:1", "sh", "-c", serveName("web"))
	line := h.must("port", "web")
	var hostPort string
	if _, after, ok := strings.Cut(strings.TrimSpace(line), "80/tcp -> 0.0.0.0:"); ok {
		hostPort = after
	}
	if hostPort == "" || strings.Contains(hostPort, "\n") {
		t.Fatalf("port web = %q, want one line 80/tcp -> 0.0.0.0:PORT", line)
	}
	if got := h.must("port", "web", "80"); got != "0.0.0.0:"+hostPort+"\n" {
		t.Errorf("port web 80 = %q", got)
	}
	if got := h.must("ps", "--format", "{{.Ports}}", "-f", "name=web"); got != "0.0.0.0:"+hostPort+"->80/tcp\n" {
		t.Errorf("ps's PORTS = %q, want docker ps's 0.0.0.0:%s->80/tcp", got, hostPort)
	}
	var got string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		cmd := exec.Command("nsenter", "--net=/run/netns/"+h.netns, "/bin/busybox", "sh", "-c", `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 10 127.0.0.1 `+hostPort)
		if got, _, _ = runCmd(t, cmd); strings.Contains(got, "hello from web") {
			break
		}
	}
	if !strings.Contains(got, "hello from web") {
		t.Errorf("through -P's port %s: %q", hostPort, got)
	}

	const n = 20
	ports := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("p%d", i)
			if _, errOut, code := h.md("run", "-d", "--name", name, "-P", "exposed:1", "sleep", "300"); code != 0 {
				t.Errorf("run -P %s: exit %d %s", name, code, errOut)
				return
			}
			out, _, _ := h.md("port", name, "80")
			ports <- strings.TrimSpace(out)
		}(i)
	}
	wg.Wait()
	close(ports)
	seen := map[string]bool{hostPort: true}
	for p := range ports {
		if seen[p] || !strings.HasPrefix(p, "0.0.0.0:") {
			t.Errorf("port %q given twice, or not a port", p)
		}
		seen[p] = true
	}
	if len(seen) != n+1 {
		t.Errorf("%d different ports for %d containers", len(seen), n+1)
	}
	out := h.must("ps", "-aq")
	h.must(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	h.assertNoLeaks()
}

// TestImmutableFilesStopNothing: a container given CAP_LINUX_IMMUTABLE
// makes its /etc/hosts and a file of its upper layer immutable
// (chattr +i). Another container still starts on its network (the
// names in the first one's file go stale, with a warning), and rm -f
// still takes the first, leaving nothing behind.
func TestImmutableFilesStopNothing(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	h.must("network", "create", "imm")
	t.Cleanup(func() { h.md("rm", "-f", "imm1", "imm2"); h.md("network", "rm", "imm") })
	h.must("run", "-d", "--name", "imm1", "--network", "imm", "--cap-add", "LINUX_IMMUTABLE", ref, "sh", "-c",
		"echo x > /f && chattr +i /f /etc/hosts && lsattr /f /etc/hosts && sleep 300")
	waitLog(t, h, "imm1", "/etc/hosts")
	if out := h.must("logs", "imm1"); !strings.Contains(out, "-i-") {
		t.Skipf("chattr +i had no effect on this file system: %q", out)
	}
	if _, errOut, code := h.md("run", "-d", "--name", "imm2", "--network", "imm", ref, "sleep", "300"); code != 0 {
		t.Errorf("a start beside a container whose /etc/hosts is immutable: exit %d %s", code, errOut)
	}
	if _, errOut, code := h.md("rm", "-f", "imm1", "imm2"); code != 0 {
		t.Errorf("rm -f of a container with immutable files: exit %d %s", code, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(h.root, "containers", ".removing-*")); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
	h.must("network", "rm", "imm")
	h.assertNoLeaks()
}
