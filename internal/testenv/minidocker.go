package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// MiniDockerTools are the built tools a mini-docker run chains.
var MiniDockerTools = []string{"pull", "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside", "mini-docker"}

// ContainerID is a full container ID, as a state folder is named.
var ContainerID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// MiniDocker is one integration test's mini-docker: the built binary, a
// state root of its own, and a network namespace of its own to play the
// host, so the bridge, veths and NAT its runs make never touch the
// real host's.
type MiniDocker struct {
	Bin   string // the built mini-docker (its sibling tools beside it)
	Root  string // the state root
	Netns string // the namespace's name (/run/netns/NAME)
	// Seen lists every container ID made under Root (WatchNames).
	Seen func() []string
}

// NewMiniDocker builds (or finds) the tools, makes the state root and
// a network namespace named prefix-RANDOM with lo up, deleted when the
// test ends (after the cleanups the test registers later, which run
// first).
func NewMiniDocker(t *testing.T, prefix string) *MiniDocker {
	t.Helper()
	Integration(t)
	RequireCommand(t, "nsenter")
	RequireCommand(t, "ip")
	md := &MiniDocker{Root: t.TempDir()}
	for _, n := range MiniDockerTools {
		md.Bin = Bin(t, n)
	}
	b := make([]byte, 4)
	rand.Read(b)
	md.Netns = prefix + "-" + hex.EncodeToString(b)
	// A foreground run makes its container's cgroup before the
	// container's folder, recording the ID under early/ first.
	containers := WatchNames(t, filepath.Join(md.Root, "containers"), ContainerID)
	early := WatchNames(t, filepath.Join(md.Root, "early"), ContainerID)
	md.Seen = func() []string { return append(containers(), early()...) }
	if out, err := exec.Command("ip", "netns", "add", md.Netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", md.Netns).Run() })
	exec.Command("ip", "-n", md.Netns, "link", "set", "lo", "up").Run()
	return md
}
