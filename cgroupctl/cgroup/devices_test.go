package cgroup

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDevicesBothVersions: the same --devices docker plus one
// --device-cgroup-rule give a process in the group the same access on
// v1 (devices.allow and devices.deny) and on v2 (the eBPF program):
// mknod of any node, /dev/null, the rule's device for reading but not
// writing, nothing else (EPERM).
func TestDevicesBothVersions(t *testing.T) {
	for name, h := range realTrees(t) {
		if h.Driver == V1 && h.V1["devices"] == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			parent := fmt.Sprintf("mini-docker-test-%d-devices-%s", os.Getpid(), name)
			g, undo, err := Create(h, parent, "dev", Resources{Devices: "docker", DeviceRules: "c 10:229 r"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := undo(); err != nil {
					t.Error(err)
				}
			}()
			dir := t.TempDir()
			script := `mknod ` + dir + `/fuse c 10 229 && echo mknod-ok
true < ` + dir + `/fuse && echo fuse-read-ok
true > ` + dir + `/fuse || echo fuse-write-denied
true < /dev/kmsg || echo kmsg-denied
cat /dev/null && echo null-ok
true`
			out := runIn(t, g, script)
			for _, want := range []string{"mknod-ok", "fuse-read-ok", "fuse-write-denied", "kmsg-denied", "null-ok"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %s in\n%s", want, out)
				}
			}
			if n := strings.Count(out, "Operation not permitted"); n != 2 {
				t.Errorf("%d EPERMs, want 2 (write to 10:229, /dev/kmsg)\n%s", n, out)
			}
		})
	}
}
