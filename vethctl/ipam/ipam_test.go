package ipam

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
)

func mustSubnet(t *testing.T, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func openPool(t *testing.T, root, subnet string) *Pool {
	t.Helper()
	p, err := OpenPool(root, mustSubnet(t, subnet), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A /29 has 8 addresses: .0 is the network, .7 the broadcast, .1 the
// gateway, so exactly .2 to .6 can be leased, lowest first.
func TestPoolSkipsNetworkGatewayBroadcast(t *testing.T) {
	p := openPool(t, t.TempDir(), "10.9.0.0/29")
	var got []string
	for i := 0; i < 5; i++ {
		ip, err := p.Allocate(fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		got = append(got, ip.String())
	}
	want := "[10.9.0.2 10.9.0.3 10.9.0.4 10.9.0.5 10.9.0.6]"
	if fmt.Sprint(got) != want {
		t.Fatalf("leased %v, want %s", got, want)
	}
	_, err := p.Allocate("one-too-many")
	if !errors.Is(err, ErrExhausted) {
		t.Fatalf("allocation in a full subnet: got %v, want ErrExhausted", err)
	}
}

func TestPoolCustomGatewayIsNeverLeased(t *testing.T) {
	root := t.TempDir()
	p, err := OpenPool(root, mustSubnet(t, "10.9.1.0/30"), net.ParseIP("10.9.1.2"))
	if err != nil {
		t.Fatal(err)
	}
	ip, err := p.Allocate("only")
	if err != nil || ip.String() != "10.9.1.1" {
		t.Fatalf("got %v, %v; want 10.9.1.1 (the one address that is not network, broadcast or gateway)", ip, err)
	}
	if _, err := p.Allocate("second"); !errors.Is(err, ErrExhausted) {
		t.Fatalf("got %v, want ErrExhausted", err)
	}
}

func TestPoolSameIDSameAddressAndRelease(t *testing.T) {
	root := t.TempDir()
	p := openPool(t, root, "10.9.2.0/24")
	a, _ := p.Allocate("web")
	b, _ := p.Allocate("web")
	if !a.Equal(b) {
		t.Fatalf("same id got %s then %s", a, b)
	}
	// A second Pool on the same root sees the lease: state is on disk.
	other := openPool(t, root, "10.9.2.0/24")
	if c, _ := other.Allocate("db"); c.String() != "10.9.2.3" {
		t.Fatalf("second pool leased %s, want 10.9.2.3", c)
	}
	if err := p.Release("web"); err != nil {
		t.Fatal(err)
	}
	if err := p.Release("web"); err != nil {
		t.Fatalf("releasing twice: %v", err)
	}
	if c, _ := other.Allocate("cache"); c.String() != "10.9.2.2" {
		t.Fatalf("after release got %s, want the freed 10.9.2.2", c)
	}
}

func TestPoolRejectsBadSubnets(t *testing.T) {
	for _, s := range []string{"10.0.0.0/31", "10.0.0.1/32", "fd00::/64"} {
		if _, err := OpenPool(t.TempDir(), mustSubnet(t, s), nil); err == nil {
			t.Errorf("OpenPool(%s) succeeded, want an error", s)
		}
	}
	if _, err := OpenPool(t.TempDir(), mustSubnet(t, "10.0.0.0/24"), net.ParseIP("10.0.1.1")); err == nil {
		t.Error("gateway outside the subnet accepted")
	}
}

// 50 goroutines, each with its own Pool (its own lock file description,
// as separate processes would have), allocate at once from one /24.
func TestPoolConcurrentAllocations(t *testing.T) {
	root := t.TempDir()
	const n = 50
	ips := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := OpenPool(root, mustSubnetNoT("10.9.3.0/24"), nil)
			if err != nil {
				errs[i] = err
				return
			}
			ip, err := p.Allocate(fmt.Sprintf("c%02d", i))
			ips[i], errs[i] = ip.String(), err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range ips {
		if errs[i] != nil {
			t.Fatalf("allocation %d: %v", i, errs[i])
		}
		if seen[ips[i]] {
			t.Fatalf("address %s handed out twice", ips[i])
		}
		seen[ips[i]] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct addresses, want %d", len(seen), n)
	}
	// Release them all concurrently: the pool is empty again, and the
	// same 50 addresses come back.
	p := openPool(t, root, "10.9.3.0/24")
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.Release(fmt.Sprintf("c%02d", i)) }()
	}
	wg.Wait()
	if leases, _ := p.Leases(); len(leases) != 0 {
		t.Fatalf("%d leases left after releasing all", len(leases))
	}
	for i := 0; i < n; i++ {
		ip, err := p.Allocate(fmt.Sprintf("again%02d", i))
		if err != nil || !seen[ip.String()] {
			t.Fatalf("re-allocation %d: %v %v, want one of the released addresses", i, ip, err)
		}
	}
}

func mustSubnetNoT(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// docker run --ip: the address asked for, or a refusal that says why;
// the automatic allocation goes around a chosen address.
func TestAllocateIP(t *testing.T) {
	p := openPool(t, t.TempDir(), "10.9.2.0/29")
	ip, err := p.AllocateIP("web", net.ParseIP("10.9.2.5"))
	if err != nil || ip.String() != "10.9.2.5" {
		t.Fatalf("AllocateIP 10.9.2.5: %v, %v", ip, err)
	}
	if again, err := p.AllocateIP("web", net.ParseIP("10.9.2.5")); err != nil || !again.Equal(ip) {
		t.Fatalf("the same ID asking again: %v, %v; want its lease back", again, err)
	}
	for _, tc := range []struct {
		id, ip string
		want   error
	}{
		{"db", "10.9.2.5", ErrInUse},      // leased to web
		{"db", "10.9.2.1", ErrInUse},      // the gateway
		{"db", "10.9.2.0", ErrOutOfRange}, // the network address
		{"db", "10.9.2.7", ErrOutOfRange}, // the broadcast address
		{"db", "10.9.3.2", ErrOutOfRange}, // another subnet
		{"web", "10.9.2.6", ErrInUse},     // web holds 10.9.2.5 already
	} {
		if _, err := p.AllocateIP(tc.id, net.ParseIP(tc.ip)); !errors.Is(err, tc.want) {
			t.Errorf("AllocateIP(%s, %s): %v, want %v", tc.id, tc.ip, err, tc.want)
		}
	}
	var got []string
	for i := 0; i < 4; i++ {
		ip, err := p.Allocate(fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip.String())
	}
	if want := "[10.9.2.2 10.9.2.3 10.9.2.4 10.9.2.6]"; fmt.Sprint(got) != want {
		t.Fatalf("automatic leases %v, want %s (around the chosen 10.9.2.5)", got, want)
	}
}
