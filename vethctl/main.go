// Command vethctl wires network namespaces the way a container runtime
// does: named namespaces, veth pairs, a bridge, addresses, routes, an
// address allocator, outbound NAT and a userland port forward. It speaks
// netlink directly (no `ip` underneath); --explain prints the iproute2
// commands each step stands for. The logic is in vethctl/network, the
// address allocator in vethctl/ipam.
//
// Lesson 05 (lessons/05-networking.md) teaches it.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mini-docker/internal/cli"
	"mini-docker/vethctl/ipam"
	"mini-docker/vethctl/network"
)

const tool = "vethctl"

// commands is vethctl's top level: its sub-commands and its help.
var commands = cli.Dispatcher{
	Tool: tool,
	Summary: `Network namespaces, veth pairs, bridges and port forwarding, built with
netlink; --explain prints the equivalent ip(8) commands.`,
	Commands: cli.Verbs(tool, []cli.Verb{
		{Usage: "netns add|del|list [NAME]", Short: "named namespaces in /run/netns (like ip netns)", Run: cmdNetns, Help: help("netns add|del|list [NAME]",
			"Manage named network namespaces exactly as `ip netns` does: each is bind-mounted on /run/netns/NAME, so `ip netns exec NAME CMD` and `nsenter --net=/run/netns/NAME CMD` enter it.",
			"vethctl netns add box", "ip netns exec box ip link", "vethctl netns list", "vethctl netns del box")},
		{Usage: "create HOST PEER [flags]", Short: "a veth pair, PEER moved into a namespace", Run: cmdCreate, Help: help("create HOST PEER [--netns NAME | --pid PID] [--addr CIDR] [--mac MAC] [--gateway IP] [--mtu N] [--bridge BR]",
			"Create a veth pair HOST <-> PEER, move PEER into the namespace and give it that name, set its address and default route, and bring both ends and the namespace's lo up. If a step fails, the pair is deleted.",
			"vethctl create veth0 eth0 --netns box --addr 10.0.0.2/24 --gateway 10.0.0.1",
			"vethctl create veth1a2b3c4 eth0 --pid 4242 --addr 172.18.0.2/16 --mac 02:42:ac:12:00:02 --gateway 172.18.0.1 --bridge mini-docker0")},
		{Usage: "delete LINK", Short: "delete a link (both ends of a veth)", Run: cmdDelete, Help: help("delete LINK", "Delete a link of this namespace (like `ip link del`). Deleting one end of a veth pair deletes both.",
			"vethctl delete veth0")},
		{Usage: "bridge add|del NAME [--addr CIDR]", Short: "a bridge, the host side of a container network", Run: cmdBridge, Help: help("bridge add|del NAME [--addr CIDR]",
			"Create (with an address, up) or delete a bridge: the virtual switch the host ends of the veths plug into. Its address is the containers' gateway.",
			"vethctl bridge add mini-docker0 --addr 172.18.0.1/16", "vethctl bridge del mini-docker0")},
		{Usage: "attach BRIDGE LINK", Short: "plug a link into a bridge", Run: cmdAttach, Help: help("attach BRIDGE LINK", "Plug LINK into BRIDGE (like `ip link set LINK master BRIDGE`).",
			"vethctl attach mini-docker0 veth0")},
		{Usage: "show [--netns NAME|--pid PID]", Short: "links, addresses and routes", Run: cmdShow, Help: help("show [--netns NAME | --pid PID]",
			"Show the links, IPv4 addresses and IPv4 routes of a namespace (default: this one).",
			"vethctl show --netns box", "vethctl show --pid 4242")},
		{Usage: "ipam alloc|release|list [ID]", Short: "lease addresses of a subnet (state root)", Run: cmdIpam, Help: help("ipam alloc|release|list [ID] [--subnet CIDR] [--gateway IP] [--ip IP] [--root DIR]",
			"Lease addresses of a subnet to IDs (containers), as lease files under ROOT/network/. Never hands out the network, broadcast or gateway address, nor a leased one; safe for concurrent processes (flock). alloc --ip leases that address or fails (docker run --ip).",
			"vethctl ipam alloc c1 --subnet 10.0.0.0/24", "vethctl ipam alloc c2 --subnet 10.0.0.0/24 --ip 10.0.0.50", "vethctl ipam list --subnet 10.0.0.0/24", "vethctl ipam release c1 --subnet 10.0.0.0/24")},
		{Usage: "nat add|del --subnet CIDR --out IFACE", Short: "masquerade a subnet's traffic out of an interface", Run: cmdNat, Help: help("nat add|del --subnet CIDR --out IFACE",
			"Masquerade traffic from SUBNET leaving through IFACE (iptables -t nat POSTROUTING ... -j MASQUERADE) and turn on IPv4 forwarding, in this namespace. Only done when asked; `nat del` removes the rule.",
			"vethctl nat add --subnet 172.18.0.0/16 --out eth0", "vethctl nat del --subnet 172.18.0.0/16 --out eth0")},
		{Usage: "forward --listen ADDR:PORT --to ADDR:PORT", Short: "relay a port to an address (docker run -p)", Run: cmdForward, Help: help("forward --listen ADDR:PORT --to ADDR:PORT [--proto tcp,udp] [--listen-netns NAME] [--to-netns NAME]",
			"Relay connections (TCP) and datagrams (UDP) from a listening address to a target, in user space, as docker-proxy does for `docker run -p`. Runs until interrupted; prints one line per protocol once listening.",
			"vethctl forward --listen 127.0.0.1:8080 --to 172.18.0.2:80",
			"vethctl forward --listen 127.0.0.1:8080 --to 127.0.0.1:80 --to-netns box --proto tcp")},
	}),
	Examples: []string{
		"vethctl netns add box",
		"vethctl create veth0 eth0 --netns box --addr 10.0.0.2/24 --gateway 10.0.0.1 --explain",
		"vethctl forward --listen 127.0.0.1:8080 --to 172.18.0.2:80",
	},
}

func main() { cli.Main(tool, commands.Run) }

// help is a sub-command's own help, its usage naming it ("vethctl
// create HOST PEER ..."). Flags may come after the positional arguments,
// as with ip(8).
func help(usage, summary string, examples ...string) cli.Command {
	return cli.Command{Tool: tool, Usage: usage, Summary: summary, Examples: examples, Interspersed: true}
}

// nsFlags adds --netns/--pid and returns a function reading them.
func nsFlags(f *cli.Flags, what string) func() (network.NS, error) {
	name := f.String("netns", "", what+": the namespace `NAME` (in /run/netns)")
	pid := f.Int("pid", 0, what+": the namespace of process `PID`")
	return func() (network.NS, error) {
		switch {
		case *name != "" && *pid != 0:
			return network.NS{}, cli.Usagef(tool+" "+f.Name(), "--netns and --pid are exclusive")
		case *pid < 0:
			return network.NS{}, cli.Usagef(tool, "invalid --pid %d", *pid)
		case *name != "":
			return network.Named(*name), nil
		case *pid != 0:
			return network.OfPID(*pid), nil
		}
		return network.NS{}, nil
	}
}

// need checks the positional arguments after the first skip ones (the
// verb of `netns add NAME`, ...) against the names the command wants.
func need(f *cli.Flags, cmd string, skip int, names ...string) error {
	got := f.Args()[min(skip, f.NArg()):]
	if len(got) == len(names) {
		return nil
	}
	if len(names) == 0 {
		return cli.Usagef(tool+" "+cmd, "%s: unexpected argument %q", cmd, got[0])
	}
	return cli.Usagef(tool+" "+cmd, "%s: want %s, got %d argument(s)", cmd, strings.Join(names, " "), len(got))
}

func cmdNetns(f *cli.Flags, args []string) error {
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	ex := f.Explainer()
	switch verb := f.Arg(0); verb {
	case "add", "del", "delete":
		if err := need(f, "netns "+verb, 1, "NAME"); err != nil {
			return err
		}
		if verb == "add" {
			_, err := network.NetnsAdd(f.Arg(1), ex)
			return err
		}
		err := network.NetnsDel(f.Arg(1), ex)
		if errors.Is(err, network.ErrNoNetns) {
			return cli.WithHint(err, "see 'vethctl netns list'")
		}
		return err
	case "list", "ls":
		names, err := network.NetnsList()
		for _, n := range names {
			fmt.Println(n)
		}
		return err
	default:
		return cli.Usagef(tool+" netns", "netns: want add, del or list, got %q", verb)
	}
}

func cmdCreate(f *cli.Flags, args []string) error {
	ns := nsFlags(f, "where PEER goes")
	addr := f.String("addr", "", "PEER's address and prefix, `CIDR` like 10.0.0.2/24")
	mac := f.String("mac", "", "PEER's hardware address, `MAC` like 02:42:0a:00:00:02 (default: random)")
	gw := f.String("gateway", "", "default route inside the namespace via this `IP`")
	mtu := f.Int("mtu", 0, "MTU `N` of both ends (default: the kernel's 1500)")
	br := f.String("bridge", "", "plug HOST into the bridge `BR`")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := need(f, "create", 0, "HOST", "PEER"); err != nil {
		return err
	}
	v := network.Veth{Host: f.Arg(0), Peer: f.Arg(1), MTU: *mtu, Bridge: *br}
	var err error
	if v.NS, err = ns(); err != nil {
		return err
	}
	if *addr != "" {
		if v.Addr, err = network.ParseCIDR(*addr); err != nil {
			return cli.WithCode(err, cli.ExitToolFailure)
		}
	}
	if *mac != "" {
		if v.PeerMAC, err = net.ParseMAC(*mac); err != nil || len(v.PeerMAC) != 6 {
			return fmt.Errorf("invalid --mac %q (want six bytes like 02:42:0a:00:00:02)", *mac)
		}
	}
	if *gw != "" {
		if v.Gateway = net.ParseIP(*gw); v.Gateway == nil {
			return fmt.Errorf("invalid --gateway %q (want an IP address)", *gw)
		}
		if v4 := v.Gateway.To4(); v4 != nil {
			v.Gateway = v4
		}
	}
	_, err = network.CreateVeth(v, f.Explainer())
	return hintFor(err, v.NS)
}

// hintFor adds the fix for the failures a learner meets most.
func hintFor(err error, ns network.NS) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, network.ErrNoNetns) && ns.Name != "":
		return cli.WithHint(err, "create it first: vethctl netns add "+ns.Name)
	case strings.Contains(err.Error(), "no bridge named"):
		return cli.WithHint(err, "create it first: vethctl bridge add NAME --addr CIDR")
	case strings.Contains(err.Error(), "already exists"):
		return cli.WithHint(err, "pick another name, or delete the old link: vethctl delete NAME")
	}
	return err
}

func cmdDelete(f *cli.Flags, args []string) error {
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := need(f, "delete", 0, "LINK"); err != nil {
		return err
	}
	return network.DeleteLink(f.Arg(0), f.Explainer())
}

func cmdBridge(f *cli.Flags, args []string) error {
	addr := f.String("addr", "", "the bridge's address and prefix, `CIDR` like 172.18.0.1/16")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	verb := f.Arg(0)
	if err := need(f, "bridge "+verb, 1, "NAME"); err != nil {
		return err
	}
	switch verb {
	case "add":
		var a *net.IPNet
		if *addr != "" {
			var err error
			if a, err = network.ParseCIDR(*addr); err != nil {
				return err
			}
		}
		_, err := network.AddBridge(f.Arg(1), a, f.Explainer())
		return err
	case "del", "delete":
		return network.DeleteBridge(f.Arg(1), f.Explainer())
	}
	return cli.Usagef(tool+" bridge", "bridge: want add or del, got %q", verb)
}

func cmdAttach(f *cli.Flags, args []string) error {
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := need(f, "attach", 0, "BRIDGE", "LINK"); err != nil {
		return err
	}
	return hintFor(network.Attach(f.Arg(0), f.Arg(1), f.Explainer()), network.NS{})
}

func cmdShow(f *cli.Flags, args []string) error {
	ns := nsFlags(f, "show")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := need(f, "show", 0); err != nil {
		return err
	}
	n, err := ns()
	if err != nil {
		return err
	}
	s, err := network.Show(n)
	if err != nil {
		return hintFor(err, n)
	}
	return s.Print(os.Stdout)
}

func cmdIpam(f *cli.Flags, args []string) error {
	want := f.String("ip", "", "alloc: lease this `IP` (refused if leased, the gateway, or not in the subnet)")
	subnet := f.String("subnet", network.DefaultSubnet, "the subnet to lease from, `CIDR`")
	gw := f.String("gateway", "", "the address kept for the gateway, `IP` (default: the subnet's first)")
	root := f.String("root", cli.StateRoot(), "state root `DIR` (env MINI_DOCKER_ROOT)")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	pool, err := ipam.OpenSubnet(*root, *subnet, *gw)
	if err != nil {
		return err
	}
	switch verb := f.Arg(0); verb {
	case "alloc", "release":
		if err := need(f, "ipam "+verb, 1, "ID"); err != nil {
			return err
		}
		if verb == "release" {
			return pool.Release(f.Arg(1))
		}
		var ip net.IP
		if *want != "" {
			if ip = net.ParseIP(*want).To4(); ip == nil {
				return cli.Usagef(tool+" ipam", "invalid --ip %q (want an IPv4 address)", *want)
			}
		}
		ip, err := pool.AllocateIP(f.Arg(1), ip)
		if err != nil {
			if errors.Is(err, ipam.ErrExhausted) {
				return cli.WithHint(err, "release addresses (vethctl ipam release ID) or use a larger subnet")
			}
			return err
		}
		fmt.Println(pool.CIDR(ip))
		return nil
	case "list", "ls":
		leases, err := pool.Leases()
		for _, l := range leases {
			fmt.Printf("%s\t%s\n", l.IP, l.ID)
		}
		return err
	default:
		return cli.Usagef(tool+" ipam", "ipam: want alloc, release or list, got %q", verb)
	}
}

func cmdNat(f *cli.Flags, args []string) error {
	subnet := f.String("subnet", "", "source subnet of the containers, `CIDR`")
	out := f.String("out", "", "outgoing interface `IFACE`")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	verb := f.Arg(0)
	if err := need(f, "nat "+verb, 1); err != nil {
		return err
	}
	_, sn, err := net.ParseCIDR(*subnet)
	if err != nil {
		return cli.Usagef(tool+" nat", "invalid --subnet %q (want e.g. 172.18.0.0/16)", *subnet)
	}
	n := network.NAT{Subnet: sn, Out: *out}
	switch verb {
	case "add":
		_, err := network.NATAdd(n, f.Explainer())
		return err
	case "del", "delete":
		return network.NATDel(n, f.Explainer())
	}
	return cli.Usagef(tool+" nat", "nat: want add or del, got %q", verb)
}

func cmdForward(f *cli.Flags, args []string) error {
	listen := f.String("listen", "", "address to listen on, `IP:PORT`")
	to := f.String("to", "", "address to relay to, `IP:PORT`")
	proto := f.String("proto", "tcp,udp", "protocols to relay: tcp, udp or tcp,udp")
	lns := f.String("listen-netns", "", "listen inside the namespace `NAME` (default: this one)")
	tns := f.String("to-netns", "", "connect to the target from inside the namespace `NAME`")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if err := need(f, "forward", 0); err != nil {
		return err
	}
	if *listen == "" || *to == "" {
		return cli.Usagef(tool+" forward", "forward: --listen and --to are both needed")
	}
	var fws []*network.Forwarder
	defer func() {
		for _, fw := range fws {
			fw.Close()
		}
	}()
	for _, p := range strings.Split(*proto, ",") {
		fw, err := network.StartForward(network.Forward{Proto: strings.TrimSpace(p), Listen: *listen, Target: *to,
			ListenNS: nsOrCurrent(*lns), TargetNS: nsOrCurrent(*tns)}, f.Explainer())
		if err != nil {
			if strings.Contains(err.Error(), "address already in use") {
				return cli.WithHint(err, "another program listens on that port: pick another one")
			}
			return err
		}
		fws = append(fws, fw)
		fmt.Printf("forwarding %s %s -> %s\n", p, fw.Addr(), *to)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func nsOrCurrent(name string) network.NS {
	if name == "" {
		return network.NS{}
	}
	return network.Named(name)
}
