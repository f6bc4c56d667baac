// Package network is lesson 05 in code: how a container gets a network.
//
// The model, the way Docker's default bridge network is built:
//
//	host namespace                        container namespace (md-ID12)
//	mini-docker0 (bridge) 172.18.0.1/16   lo    127.0.0.1/8
//	  `- vethXXXXXXX  <===== veth =====>  eth0  172.18.0.2/16
//	                                      default via 172.18.0.1
//	127.0.0.1:8080 -- forward ----------> 172.18.0.2:80
//
// The pieces, one file each:
//
//   - A network namespace (netns.go) is a private copy of the network
//     stack: its own links, addresses, routes, firewall and ports. A new
//     one holds only lo, down.
//   - A veth pair (veth.go, the file that reads like the lesson) is a
//     virtual cable: what enters one end leaves the other. One end is
//     born in the container's namespace, already named eth0.
//   - A bridge (bridge.go) is a virtual switch in the host namespace; the
//     host ends of every container's veth plug into it, and its own
//     address is the containers' gateway.
//   - The allocator (package vethctl/ipam) hands each container an
//     address of the bridge's subnet, remembered as lease files under
//     the state root.
//   - forward.go relays a host port to a container port in user space, as
//     docker-proxy does; nat.go adds the masquerading rule that lets
//     containers reach out through a host interface (lesson 05, by
//     hand); firewall.go keeps mini-docker's whole rule set, NAT and
//     isolation for every network, in nftables or iptables (lesson 12).
//
// Every function that creates a kernel object returns how to undo it, and
// takes an *explain.Printer to print the iproute2 command it stands for.
// Host-side steps act in the namespace of the calling thread, exactly as
// the `ip` command acts in its own namespace.
package network
