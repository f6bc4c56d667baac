package lessoncheck

import (
	"fmt"
	"os"

	"github.com/vishvananda/netlink"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0501 are exercise 05.1's checks.
func checks0501(s *State) []Check {
	return []Check{
		notHostNet(),
		addrCheck("ex-red", "10.9.1.1/24", "ip netns add ex-red; ip netns add ex-blue; ip link add v-red netns ex-red type veth peer name v-blue netns ex-blue"),
		addrCheck("ex-blue", "10.9.1.2/24", "ip -n ex-blue addr add 10.9.1.2/24 dev v-blue && ip -n ex-blue link set v-blue up"),
		pinged("ex-red", "ex-blue", "10.9.1.2"),
	}
}

// checks0502 are exercise 05.2's checks.
func checks0502(s *State) []Check {
	return []Check{
		notHostNet(),
		{What: "a bridge exbr0 is up, with two ports or more", Cmd: "ip -br link show master exbr0",
			Hint: "ip link add exbr0 type bridge && ip link set exbr0 up; then ip link set HOST-END master exbr0 up for each veth",
			Test: func() error { return bridgePorts("exbr0", 2) }},
		addrCheck("ex-a", "10.9.2.1/24", "ip netns add ex-a; ip link add a-host type veth peer name eth0 netns ex-a; ip -n ex-a addr add 10.9.2.1/24 dev eth0; ip -n ex-a link set eth0 up"),
		addrCheck("ex-b", "10.9.2.2/24", "the same for ex-b, with 10.9.2.2/24"),
		pinged("ex-a", "ex-b", "10.9.2.2"),
	}
}

// notHostNet checks that the learner works in a network namespace of
// their own, not the host's (PID 1's): the exercises make links.
func notHostNet() Check {
	return Check{What: "this is a network namespace of its own, not the host's", Cmd: "[ $(readlink /proc/self/ns/net) != $(readlink /proc/1/ns/net) ]",
		Hint: "do this lesson's exercises in its own namespace: sudo make shell LESSON=05",
		Test: func() error {
			mine, init := probe.Ns(os.Getpid(), "net"), probe.Ns(1, "net")
			if mine == "" || mine == init {
				return fmt.Errorf("you are in the host's network namespace (%s): leave it alone", init)
			}
			return nil
		}}
}

// addrCheck checks that a namespace has an up veth holding cidr.
func addrCheck(netns, cidr, hint string) Check {
	return Check{What: fmt.Sprintf("%s has %s on an up veth", netns, cidr), Cmd: "ip -n " + netns + " -br addr",
		Hint: hint,
		Test: func() error {
			l, err := probe.AddrUp(netns, cidr)
			if err != nil {
				return err
			}
			if l.Type() != "veth" {
				return fmt.Errorf("%s is a %s, not a veth", l.Attrs().Name, l.Type())
			}
			return nil
		}}
}

// pinged checks that an echo request from one namespace was answered by
// the other: the ICMP counters of each (in /proc/net/snmp) went up.
func pinged(from, to, addr string) Check {
	return Check{What: fmt.Sprintf("a ping from %s reached %s and came back", from, to),
		Cmd:  fmt.Sprintf("ip netns exec %s grep Icmp: /proc/net/snmp; ip netns exec %s grep Icmp: /proc/net/snmp", to, from),
		Hint: fmt.Sprintf("ip netns exec %s ping -c 1 %s", from, addr),
		Test: func() error {
			in, err := probe.SnmpIn(probe.NetnsPath(to), "Icmp.InEchos")
			if err != nil {
				return err
			}
			back, err := probe.SnmpIn(probe.NetnsPath(from), "Icmp.InEchoReps")
			if err != nil {
				return err
			}
			if in == 0 || back == 0 {
				return fmt.Errorf("%s received %d echo request(s), %s %d reply(ies)", to, in, from, back)
			}
			return nil
		}}
}

// bridgePorts checks that a bridge of the checker's namespace is up and
// has at least n links enslaved to it.
func bridgePorts(name string, n int) error {
	br, err := probe.LinkByName(name)
	if err != nil {
		return err
	}
	if br.Type() != "bridge" {
		return fmt.Errorf("%s is a %s, not a bridge", name, br.Type())
	}
	if br.Attrs().OperState != netlink.OperUp && br.Attrs().Flags&1 == 0 {
		return fmt.Errorf("%s is down", name)
	}
	ls, err := netlink.LinkList()
	if err != nil {
		return err
	}
	ports := 0
	for _, l := range ls {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports++
		}
	}
	if ports < n {
		return fmt.Errorf("%s has %d port(s)", name, ports)
	}
	return nil
}
