package network

import (
	"net"
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

func TestParseCIDRKeepsTheHostAddress(t *testing.T) {
	n, err := ParseCIDR("172.18.0.2/16")
	if err != nil || n.String() != "172.18.0.2/16" {
		t.Fatalf("got %v, %v", n, err)
	}
	for _, bad := range []string{"172.18.0.2", "10.0.0/24", "10.0.0.1/33", ""} {
		if _, err := ParseCIDR(bad); err == nil {
			t.Errorf("ParseCIDR(%q) succeeded", bad)
		}
	}
}
