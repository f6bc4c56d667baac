package network

import (
	"strings"
	"testing"
)

// The --explain line of a forward is a command a learner may paste: a
// namespace name with shell syntax in it is quoted, and a name that
// could never be a namespace is refused before any line is printed.
func TestForwardExplainQuotesNames(t *testing.T) {
	f := Forward{Proto: "tcp", Listen: "127.0.0.1:8080", Target: "10.1.0.2:80", ListenNS: Named("a$(touch${IFS}PWNED)")}
	if err := f.check(); err != nil {
		t.Fatalf("check: %v (a valid name)", err)
	}
	want := `nsenter '--net=/run/netns/a$(touch${IFS}PWNED)' socat TCP-LISTEN:8080,fork,reuseaddr,bind=127.0.0.1 TCP:10.1.0.2:80`
	if got := f.socat(); got != want {
		t.Errorf("socat() = %s\nwant      %s", got, want)
	}
	for _, bad := range []Forward{
		{Proto: "tcp", Listen: "127.0.0.1:8080", Target: "10.1.0.2:80", ListenNS: Named("x;touch${IFS}y;#/z")},
		{Proto: "tcp", Listen: "127.0.0.1:8080", Target: "10.1.0.2:80", TargetNS: Named("../x")},
	} {
		if err := bad.check(); err == nil || !strings.Contains(err.Error(), "invalid network namespace name") {
			t.Errorf("check of %+v = %v, want invalid network namespace name", bad, err)
		}
	}
}
