package lessoncheck

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/networks"
)

// checks1201 are exercise 12.1's checks.
func checks1201(s *State) []Check {
	return []Check{
		notHostNet(),
		{What: "a network ex-net has the subnet 10.12.0.0/24", Cmd: "mini-docker network inspect ex-net",
			Hint: "mini-docker network create --subnet 10.12.0.0/24 ex-net",
			Test: func() error { _, err := exNet(); return err }},
		{What: "a container ex-db runs on ex-net", Cmd: "mini-docker ps --filter name=ex-db",
			Hint: "mini-docker run -d --name ex-db --network ex-net debian sleep 300",
			Test: func() error { _, err := runningOn("ex-db"); return err }},
		{What: "ex-db's eth0 holds its address, in its own network namespace", Cmd: "ip -n md-ID12 -br addr show eth0",
			Hint: "the container's namespace is md- and the first 12 digits of its ID",
			Test: func() error {
				c, err := runningOn("ex-db")
				if err != nil {
					return err
				}
				_, err = probe.AddrUp("md-"+container.ShortID(c.ID), c.NetworkSettings.Networks["ex-net"].IPAddress+"/24")
				return err
			}},
		{What: "ex-net's bridge is up, with ex-db's veth plugged in", Cmd: "ip -br link show master mdbr-...",
			Hint: "the bridge is made when the first container joins: is ex-db running?",
			Test: func() error {
				n, err := exNet()
				if err != nil {
					return err
				}
				return bridgePorts(networks.Bridge(n), 1)
			}},
	}
}

// checks1202 are exercise 12.2's checks.
func checks1202(s *State) []Check {
	return []Check{
		notHostNet(),
		{What: "containers ex-db and ex-web run on ex-net", Cmd: "mini-docker network inspect ex-net",
			Hint: "mini-docker network create --subnet 10.12.0.0/24 ex-net; then a container of each name with --network ex-net",
			Test: func() error {
				if _, err := runningOn("ex-db"); err != nil {
					return err
				}
				_, err := runningOn("ex-web")
				return err
			}},
		{What: "ex-web's /etc/hosts names ex-db with ex-db's address", Cmd: "mini-docker exec ex-web getent hosts ex-db",
			Hint: "both must be on ex-net (mini-docker network inspect ex-net)",
			Test: func() error { return namedIn("ex-web", "ex-db") }},
		{What: "a masquerading rule takes 10.12.0.0/24 out", Cmd: "nft list chain ip mini-docker postrouting",
			Hint: "the rule exists while the network's bridge does (made by its first container), unless daemon.json says \"iptables\": false",
			Test: func() error { return masqueraded("10.12.0.0/24") }},
	}
}

// exNet is the network ex-net, checked for its subnet.
func exNet() (*networks.Network, error) {
	n, err := (&networks.Store{Root: cli.StateRoot()}).Find("ex-net")
	if err != nil {
		return nil, err
	}
	if p, _ := networks.Subnet(n); p.String() != "10.12.0.0/24" {
		return nil, fmt.Errorf("ex-net's subnet is %s", p)
	}
	return n, nil
}

// runningOn finds a running container attached to ex-net.
func runningOn(name string) (*container.Container, error) {
	c, err := probe.Running(name)
	if err != nil {
		return nil, err
	}
	if ep := c.NetworkSettings.Networks["ex-net"]; ep == nil || ep.IPAddress == "" {
		return nil, fmt.Errorf("%s is not on ex-net (--network ex-net)", name)
	}
	return c, nil
}

// namedIn checks that who's /etc/hosts, as its processes read it, maps
// name to name's address on ex-net.
func namedIn(who, name string) error {
	w, err := runningOn(who)
	if err != nil {
		return err
	}
	n, err := runningOn(name)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/hosts", w.State.Pid))
	if err != nil {
		return err
	}
	want := n.NetworkSettings.Networks["ex-net"].IPAddress
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == want && slices.Contains(f[1:], name) {
			return nil
		}
	}
	return fmt.Errorf("%s's /etc/hosts has no line %q", who, want+" "+name)
}

// masqueraded checks this namespace's rule set for mini-docker's
// masquerading rule of subnet, in nftables or iptables (listing only).
func masqueraded(subnet string) error {
	out, err := exec.Command("nft", "list", "chain", "ip", "mini-docker", "postrouting").CombinedOutput()
	if err == nil && strings.Contains(string(out), "ip saddr "+subnet+" ") && strings.Contains(string(out), "masquerade") {
		return nil
	}
	out2, err2 := exec.Command("iptables", "-w", "-t", "nat", "-S", "MINI-DOCKER-POSTROUTING").CombinedOutput()
	if err2 == nil && strings.Contains(string(out2), "-s "+subnet+" ") {
		return nil
	}
	return fmt.Errorf("no masquerading rule for %s: %s", subnet, strings.TrimSpace(string(out)))
}
