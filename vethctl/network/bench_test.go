package network

import (
	"fmt"
	"net"
	"testing"

	"mini-docker/internal/testenv"
)

// BenchmarkContainerNetwork measures what mini-docker pays per container:
// a named namespace, a veth into it on the bridge with an address and a
// default route, then the teardown: the namespace's deletion, which
// takes the veth pair with it. All inside a namespace playing the host.
func BenchmarkContainerNetwork(b *testing.B) {
	testenv.Integration(b)
	hostName := "vb" + testID + "-host"
	undoHost, err := NetnsAdd(hostName, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer undoHost()
	host := Named(hostName)
	if err := host.Do(func() error {
		_, err := AddBridge(DefaultBridge, DefaultBridgeAddr(), nil)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	gw := net.ParseIP(DefaultGateway)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("vb%s-%d", testID, i)
		err := host.Do(func() error {
			delNS, err := NetnsAdd(name, nil)
			if err != nil {
				return err
			}
			defer delNS()
			addr := &net.IPNet{IP: net.IPv4(172, 18, byte(i>>8), byte(2+i%250)).To4(), Mask: net.CIDRMask(16, 32)}
			// No delete of the veth: as mini-docker rm does, deleting the
			// namespace takes the pair with it, in the kernel's background
			// cleanup of the namespace.
			_, err = CreateVeth(Veth{Host: fmt.Sprintf("vb%07x", i), Peer: "eth0", NS: Named(name),
				Addr: addr, Gateway: gw, Bridge: DefaultBridge}, nil)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
