package networks

import (
	"strings"
	"testing"
)

func TestResolvConfDropsLoopback(t *testing.T) {
	host := "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\noptions edns0\n"
	got := string(ResolvConf([]byte(host), false))
	if strings.Contains(got, "127.0.0.53") || !strings.Contains(got, "nameserver 10.0.0.1") || !strings.Contains(got, "search lan") {
		t.Errorf("ResolvConf =\n%s", got)
	}
	got = string(ResolvConf([]byte("nameserver 127.0.0.53\nnameserver ::1\n"), false))
	if !strings.Contains(got, "nameserver 8.8.8.8") || strings.Contains(got, "127.0.0.53") {
		t.Errorf("ResolvConf with only loopback =\n%s", got)
	}
}
