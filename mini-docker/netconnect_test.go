package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// eventually runs a command in container ctr until its output contains
// want (names and routes are in place once connect returns, but a
// server inside may still be starting), with a generous deadline.
func (h *harness) eventually(ctr, script, want string) string {
	h.t.Helper()
	var out string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, _, _ = h.md("exec", ctr, "sh", "-c", script); strings.Contains(out, want) {
			return out
		}
	}
	h.t.Errorf("exec %s %q: %q, want %q", ctr, script, out, want)
	return out
}

// network connect gives a running container a second interface on
// another network (its name and alias resolve there, the default route
// stays), which a stop and start keep; disconnect takes it away, and
// the rules and kernel objects are back to what they were at the end.
func TestNetworkConnectDisconnect(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.77.0.0/24", "app")
	h.must("network", "create", "--subnet", "10.78.0.0/24", "other")
	h.must("run", "-d", "--name", "db", "--network", "app", ref, "sh", "-c", serveName("db"))
	h.must("run", "-d", "--name", "web", "--network", "other", ref, "sleep", "300")
	if out, _, _ := h.md("exec", "web", "sh", "-c", "nc -w 3 db 80 </dev/null && echo reached db"); strings.Contains(out, "reached") {
		t.Fatalf("web reached db before connect: %q", out)
	}

	out := h.must("network", "connect", "--explain", "--alias", "cache", "app", "web")
	_, errOut, _ := h.md("network", "connect", "--explain", "app", "db")
	if out != "" || !strings.Contains(errOut, "endpoint with name db already exists in network app") {
		t.Errorf("connect again: %q %q", out, errOut)
	}
	h.eventually("web", "ip -o -4 addr show eth1", "inet 10.77.0.3/24")
	h.eventually("web", "ip route", "default via 10.78.0.1 dev eth0")
	h.eventually("web", httpGet("db"), "hello from db")
	h.eventually("db", "cat /etc/hosts", "10.77.0.3\tweb cache\n")
	h.eventually("db", "nc -w 10 cache 80 </dev/null; echo exit $?", "exit 1") // a refused port: the name resolved
	got := h.must("network", "inspect", "-f", "{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}", "app")
	if !strings.Contains(got, "web=10.77.0.3/24") || !strings.Contains(got, "db=10.77.0.2/24") {
		t.Errorf("network inspect app: %q", got)
	}
	got = h.must("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "web")
	if got != "app=10.77.0.3 other=10.78.0.2 \n" {
		t.Errorf("inspect web: networks %q", got)
	}

	// A stop and a start keep the connection; a stopped container can be connected too.
	h.must("stop", "-t", "0", "web")
	// stop returns once the container is recorded as stopped; its
	// monitor then releases what it held.
	members := func() string {
		return h.must("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "app")
	}
	for deadline := time.Now().Add(time.Minute); members() != "db \n" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	if got := members(); got != "db \n" {
		t.Errorf("network inspect app with web stopped: %q", got)
	}
	h.must("start", "web")
	h.eventually("web", httpGet("db"), "hello from db")
	h.must("run", "-d", "--name", "late", "--network", "other", ref, "sleep", "300")
	h.must("stop", "-t", "0", "late")
	h.must("network", "connect", "app", "late")
	h.must("start", "late")
	h.eventually("late", httpGet("db"), "hello from db")
	// web is on both networks: late's start, on one, rewrote web's file,
	// which still names db, on the other.
	if out, _, _ := h.md("exec", "web", "cat", "/etc/hosts"); !strings.Contains(out, "\tdb\n") || !strings.Contains(out, "\tlate\n") {
		t.Errorf("web's /etc/hosts after late started, want db and late:\n%s", out)
	}

	h.must("network", "disconnect", "--explain", "app", "web")
	if out, _, _ := h.md("exec", "web", "ip", "link", "show", "eth1"); out != "" {
		t.Errorf("eth1 after disconnect: %q", out)
	}
	h.eventually("db", "cat /etc/hosts; echo end", "end")
	if out, _, _ := h.md("exec", "db", "cat", "/etc/hosts"); strings.Contains(out, "web") || !strings.Contains(out, "late") {
		t.Errorf("db's /etc/hosts after web's disconnect:\n%s", out)
	}
	h.must("rm", "-f", "db", "web", "late")
	h.must("network", "rm", "app", "other")
	h.assertRulesGone("10.77.0.0/24", "10.78.0.0/24")
	h.assertNoLeaks()
}

// A container disconnected from the network it was run on does not go
// back to it at its next start, as in Docker: it starts with the
// networks it still has (the first of them as eth0, with the default
// route) or with lo only, until network connect gives its network back.
func TestDisconnectedStaysDisconnected(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.86.0.0/24", "app")
	h.must("network", "create", "--subnet", "10.87.0.0/24", "side")
	h.must("run", "-d", "--name", "db", "--network", "app", ref, "sleep", "300")
	h.must("run", "-d", "--name", "web", "--network", "app", ref, "sleep", "300")
	h.must("run", "-d", "--name", "solo", ref, "sleep", "300")
	h.eventually("db", "cat /etc/hosts", "\tweb\n")
	h.must("network", "disconnect", "app", "web")
	h.must("network", "connect", "side", "web")
	h.must("network", "disconnect", "bridge", "solo")
	for _, c := range []string{"web", "solo"} {
		h.must("stop", "-t", "0", c)
		h.must("start", c)
	}
	networksOf := func(c string) string {
		return h.must("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", c)
	}

	h.eventually("web", "ip -o -4 addr show eth0", "inet 10.87.0.2/24")
	h.eventually("web", "ip route show default", "default via 10.87.0.1 dev eth0")
	if out := h.must("exec", "web", "ip", "-o", "-4", "addr", "show"); strings.Contains(out, "10.86.0.") {
		t.Errorf("web is back on app after its start:\n%s", out)
	}
	if got := networksOf("web"); got != "side=10.87.0.2 \n" {
		t.Errorf("inspect web: networks %q, want side only", got)
	}
	if got := h.must("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "app"); got != "db \n" {
		t.Errorf("network inspect app: %q, want db only", got)
	}
	if out := h.must("exec", "db", "cat", "/etc/hosts"); strings.Contains(out, "web") {
		t.Errorf("db's /etc/hosts names web, which left app:\n%s", out)
	}
	if out := h.must("exec", "solo", "ip", "-o", "-4", "addr", "show"); strings.Contains(out, "eth0") || !strings.Contains(out, "127.0.0.1") {
		t.Errorf("solo, disconnected from bridge, after its start: want lo only:\n%s", out)
	}
	if got := networksOf("solo"); got != "\n" {
		t.Errorf("inspect solo: networks %q, want none", got)
	}

	// Connected again, its network is wired at the next start: eth0,
	// the default route, and its name on app.
	h.must("stop", "-t", "0", "web")
	h.must("network", "connect", "app", "web")
	h.must("start", "web")
	h.eventually("web", "ip -o -4 addr show eth0", "inet 10.86.0.")
	h.eventually("web", "ip route show default", "default via 10.86.0.1 dev eth0")
	h.eventually("web", "ip -o -4 addr show eth1", "inet 10.87.0.2/24")
	h.eventually("db", "cat /etc/hosts", "\tweb\n")

	h.must("rm", "-f", "db", "web", "solo")
	h.must("network", "rm", "app", "side")
	h.assertRulesGone("10.86.0.0/24", "10.87.0.0/24")
	h.assertNoLeaks()
}

// Bad input to connect and disconnect: Docker's messages, exit 1, and
// nothing made.
func TestNetworkConnectBadInput(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.79.0.0/24", "app")
	h.must("run", "-d", "--name", "alone", "--network", "none", ref, "sleep", "300")
	h.must("run", "--name", "web", ref, "true")
	id := strings.TrimSpace(h.must("inspect", "-f", "{{.Id}}", "web"))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"connect", "nosuch", "web"}, "network nosuch not found"},
		{[]string{"connect", "app", "nosuch"}, "No such container: nosuch"},
		{[]string{"connect", "host", "web"}, "container cannot be disconnected from host network or connected to host network"},
		{[]string{"connect", "app", "alone"}, "container cannot be connected to multiple networks with one of the networks in private (none) mode"},
		{[]string{"connect", "bridge", "web"}, "endpoint with name web already exists in network bridge"},
		{[]string{"disconnect", "app", "web"}, "container " + id + " is not connected to network app"},
		{[]string{"connect", "app"}, "\"network connect\" requires exactly 2 arguments"},
	} {
		out, errOut, code := h.md(append([]string{"network"}, c.args...)...)
		if code != 1 || out != "" || !strings.Contains(errOut, c.msg) {
			t.Errorf("network %v: exit %d %q %q, want 1 and %q", c.args, code, out, errOut, c.msg)
		}
	}
	h.must("rm", "-f", "alone", "web")
	h.must("network", "rm", "app")
	h.assertNoLeaks()
}

// --network container:NAME joins another container's network namespace:
// the same address, its servers on 127.0.0.1, its hostname and /etc
// files; what the joined container owns cannot be set, in Docker's words.
func TestNetworkContainerMode(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.80.0.0/24", "app")
	h.must("run", "-d", "--name", "db", "--network", "app", ref, "sh", "-c", serveName("db"))
	h.must("run", "-d", "--name", "idle", "--network", "app", ref, "sleep", "300")
	dbHost := strings.TrimSpace(h.must("inspect", "-f", "{{.Config.Hostname}}", "db"))
	h.eventually("db", httpGet("127.0.0.1"), "hello from db")
	out, errOut, code := h.md("run", "--rm", "--explain", "--network", "container:db", ref, "sh", "-c",
		"hostname; ip -o -4 addr show eth0 | grep -o 'inet [0-9./]*'; tail -n 2 /etc/hosts; "+httpGet("127.0.0.1"))
	want := dbHost + "\ninet 10.80.0.2/24\n# network app\n10.80.0.3\tidle\n"
	if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "hello from db") {
		t.Errorf("run --network container:db: exit %d\n%s\nwant it to start with\n%s(and hello from db)\n%s", code, out, want, errOut)
	}
	if !strings.Contains(errOut, "# --network container:db: join its network namespace /run/netns/md-") {
		t.Errorf("--explain does not say which namespace it joins:\n%s", errOut)
	}
	h.must("stop", "-t", "0", "idle")
	id := strings.TrimSpace(h.must("inspect", "-f", "{{.Id}}", "idle"))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--network", "container:nosuch"}, "No such container: nosuch"},
		{[]string{"--network", "container:idle"}, "cannot join network of a non running container: " + id},
		{[]string{"--network", "container:"}, "invalid container format container:<name|id>"},
		{[]string{"--network", "container:db", "-p", "80"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--network", "container:db", "-P"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--network", "container:db", "-h", "box"}, "conflicting options: hostname and the network mode"},
	} {
		args := append(append([]string{"run", "--rm"}, c.args...), ref, "true")
		out, errOut, code := h.md(args...)
		if code != 125 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q %q, want 125 and %q", c.args, code, out, errOut, c.msg)
		}
	}
	h.must("rm", "-f", "db", "idle")
	h.must("network", "rm", "app")
	h.assertNoLeaks()
}

// --add-host, --dns, --dns-search and --dns-option are written into the
// container's /etc files as Docker writes them, and the hosts lines stay
// when the network's names are rewritten.
func TestNameFlags(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.81.0.0/24", "app")
	h.must("run", "-d", "--name", "db", "--network", "app", "-h", "dbhost", "--add-host", "h1:10.1.2.3", "--add-host", "gw:host-gateway",
		"--dns", "9.9.9.9", "--dns-search", "a.example.", "--dns-option", "ndots:2", ref, "sleep", "300")
	h.must("run", "-d", "--name", "web", "--network", "app", ref, "sleep", "300")
	want := "ff02::2\tip6-allrouters\n10.1.2.3\th1\n172.18.0.1\tgw\n10.81.0.2\tdbhost\n# network app\n10.81.0.3\tweb\n"
	if got := h.must("exec", "db", "cat", "/etc/hosts"); !strings.HasSuffix(got, want) {
		t.Errorf("db's /etc/hosts:\n%s\nwant it to end with\n%s", got, want)
	}
	if got := h.must("exec", "db", "cat", "/etc/resolv.conf"); got != "search a.example\nnameserver 9.9.9.9\noptions ndots:2\n" {
		t.Errorf("db's /etc/resolv.conf:\n%s", got)
	}
	if got := h.must("inspect", "-f", "{{.HostConfig.Dns}} {{.HostConfig.DnsSearch}} {{.HostConfig.ExtraHosts}}", "db"); got != "[9.9.9.9] [a.example] [h1:10.1.2.3 gw:host-gateway]\n" {
		t.Errorf("inspect db: %q", got)
	}
	_, errOut, code := h.md("run", "--rm", "--add-host", "foo:bar", ref, "true")
	if code != 125 || !strings.Contains(errOut, `invalid argument "foo:bar" for "--add-host" flag: invalid IP address in add-host: "bar"`) {
		t.Errorf("--add-host foo:bar: exit %d %q", code, errOut)
	}
	h.must("rm", "-f", "db", "web")
	h.must("network", "rm", "app")
	h.assertNoLeaks()
}

// run --ip and --mac-address: the container has the address and the
// MAC it asked for, across a stop and start; another asking for the same
// address is refused; network connect --ip chooses the second address;
// and when the container loses its first network, its default route
// moves to the gateway of the one it still has, as Docker moves it.
func TestChosenAddressAndDefaultRoute(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.83.0.0/24", "lab")
	h.must("network", "create", "--subnet", "10.84.0.0/24", "lab2")
	h.must("run", "-d", "--name", "fixed", "--network", "lab", "--ip", "10.83.0.50", "--mac-address", "92:d0:c6:0a:29:33", ref, "sleep", "300")
	check := func() {
		h.eventually("fixed", "ip -o -4 addr show eth0", "inet 10.83.0.50/24")
		h.eventually("fixed", "cat /sys/class/net/eth0/address", "92:d0:c6:0a:29:33")
		got := h.must("inspect", "-f", "{{.NetworkSettings.Networks.lab.IPAMConfig.IPv4Address}} {{.NetworkSettings.Networks.lab.IPAddress}} {{.NetworkSettings.Networks.lab.MacAddress}}", "fixed")
		if got != "10.83.0.50 10.83.0.50 92:d0:c6:0a:29:33\n" {
			t.Errorf("inspect fixed: %q", got)
		}
	}
	check()
	h.must("stop", "-t", "0", "fixed")
	h.must("start", "fixed")
	check()
	_, errOut, code := h.md("run", "--rm", "--network", "lab", "--ip", "10.83.0.50", ref, "true")
	if code != 125 || !strings.Contains(errOut, "Address already in use") {
		t.Errorf("a second container asking for 10.83.0.50: exit %d %q, want 125 and Address already in use", code, errOut)
	}
	// The pool's own choice goes around the chosen address.
	h.must("run", "-d", "--name", "roam", "--network", "lab", ref, "sleep", "300")
	h.eventually("roam", "ip -o -4 addr show eth0", "inet 10.83.0.2/24")
	_, errOut, code = h.md("network", "connect", "--ip", "10.85.0.7", "lab2", "roam")
	if code != 1 || !strings.Contains(errOut, "no configured subnet or ip-range contain the IP address 10.85.0.7") {
		t.Errorf("connect --ip outside the subnet: exit %d %q", code, errOut)
	}
	h.must("network", "connect", "--ip", "10.84.0.77", "lab2", "roam")
	h.eventually("roam", "ip -o -4 addr show eth1", "inet 10.84.0.77/24")
	h.eventually("roam", "ip route show default", "default via 10.83.0.1 dev eth0")

	h.must("network", "disconnect", "--explain", "lab", "roam")
	h.eventually("roam", "ip route show default", "default via 10.84.0.1 dev eth1")
	if out, _, _ := h.md("exec", "roam", "ping", "-c", "1", "-W", "5", "10.84.0.1"); !strings.Contains(out, "1 packets received") {
		t.Errorf("roam pinging its new gateway: %q", out)
	}
	// Connected again, running, to the network it was run on: its
	// neighbours know its name again, and its stop gives the address back.
	h.must("network", "connect", "lab", "roam")
	ip := strings.TrimSpace(h.must("inspect", "-f", "{{.NetworkSettings.Networks.lab.IPAddress}}", "roam"))
	h.eventually("fixed", "cat /etc/hosts", ip+"\troam\n")
	h.must("stop", "-t", "0", "roam")
	if out, _, _ := h.md("exec", "fixed", "cat", "/etc/hosts"); strings.Contains(out, "roam") {
		t.Errorf("fixed's /etc/hosts after roam stopped: %q", out)
	}
	if _, errOut, code := h.md("run", "--rm", "--network", "lab", "--ip", ip, ref, "true"); code != 0 {
		t.Errorf("roam's address %s after its stop: exit %d %q (not given back?)", ip, code, errOut)
	}
	h.must("rm", "-f", "fixed", "roam")
	h.must("network", "rm", "lab", "lab2")
	h.assertRulesGone("10.83.0.0/24", "10.84.0.0/24")
	h.assertNoLeaks()
}

// A network connect and a network rm of the same network at once are
// one after the other, as Docker serialises them: either the connect
// fails (not found) or the rm (active endpoints), never both succeed,
// and no bridge, lease or rule is left behind by the loser.
func TestNetworkConnectRacesRemove(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.must("network", "create", "--subnet", "10.88.0.0/24", "home")
	h.must("run", "-d", "--name", "c1", "--network", "home", ref, "sleep", "300")
	var subnets []string
	for i := 0; i < 8; i++ {
		name, subnet := fmt.Sprintf("race%d", i), fmt.Sprintf("10.89.%d.0/24", i)
		subnets = append(subnets, subnet)
		h.must("network", "create", "--subnet", subnet, name)
		codes := make(chan [2]int, 2)
		for j, args := range [][]string{{"network", "connect", name, "c1"}, {"network", "rm", name}} {
			go func() {
				_, errOut, code := h.md(args...)
				if code != 0 && !strings.Contains(errOut, "not found") && !strings.Contains(errOut, "has active endpoints") {
					t.Errorf("%v: exit %d %q", args, code, errOut)
				}
				codes <- [2]int{j, code}
			}()
		}
		var got [2]int
		for range 2 {
			c := <-codes
			got[c[0]] = c[1]
		}
		if (got[0] == 0) == (got[1] == 0) {
			t.Errorf("round %d: connect exit %d, rm exit %d: want exactly one to succeed", i, got[0], got[1])
		}
		if got[0] == 0 { // connected first: disconnect, then the rm goes
			h.must("network", "disconnect", name, "c1")
			h.must("network", "rm", name)
		}
	}
	h.must("rm", "-f", "c1")
	h.must("network", "rm", "home")
	h.assertRulesGone(append(subnets, "10.88.0.0/24")...)
	h.assertNoLeaks()
}
