package network

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// netlinkSockets returns the protocol of each netlink socket this process
// holds, by file descriptor, as SO_PROTOCOL reports it (NETLINK_ROUTE is
// 0, NETLINK_XFRM 6, NETLINK_NETFILTER 12).
func netlinkSockets(t *testing.T) map[int]int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	socks := map[int]int{}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || dom != unix.AF_NETLINK {
			continue
		}
		proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
		if err != nil {
			continue
		}
		socks[fd] = proto
	}
	return socks
}

// newSockets returns the protocols of the netlink sockets opened by fn
// that are still open when it returns.
func newSockets(t *testing.T, fn func()) []int {
	t.Helper()
	before := netlinkSockets(t)
	fn()
	var protos []int
	for fd, p := range netlinkSockets(t) {
		if _, ok := before[fd]; !ok {
			protos = append(protos, p)
		}
	}
	return protos
}

// A handle opens one NETLINK_ROUTE socket and nothing else: a kernel
// without xfrm_user or nfnetlink loaded must not break `vethctl bridge`.
func TestHandleOpensOnlyRouteNetlink(t *testing.T) {
	check := func(t *testing.T, ns NS) {
		protos := newSockets(t, func() {
			h, err := ns.handle()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(h.Close)
		})
		if len(protos) != 1 || protos[0] != unix.NETLINK_ROUTE {
			t.Errorf("a handle in %s opened netlink sockets of protocols %v, want only [%d] (NETLINK_ROUTE)",
				ns, protos, unix.NETLINK_ROUTE)
		}
	}
	t.Run("current", func(t *testing.T) { check(t, NS{}) })
	t.Run("named", func(t *testing.T) {
		testenv.Integration(t)
		check(t, newNetns(t, "handle"))
	})
}

// Every handle of the package comes from NS.handle: a netlink handle
// made with no family list opens every family again.
func TestNoOtherNetlinkHandleConstructor(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	bare := regexp.MustCompile(`netlink\.NewHandle(At)?\(([^)]*)\)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range bare.FindAllStringSubmatch(string(b), -1) {
			if !strings.Contains(m[2], "unix.NETLINK_ROUTE") {
				t.Errorf("%s: %s opens every netlink family; use NS.handle()", f, m[0])
			}
		}
	}
}
