// Package sweep releases what crashed runs left behind that no
// container records: the address leases of containers whose state is
// gone. Lesson 09 (lessons/09-mini-docker.md) teaches it, with `mini-docker
// container prune`.
package sweep

import (
	"os"
	"path/filepath"
	"strings"

	"mini-docker/mini-docker/engine"
)

// Leases releases address leases of this state root whose container no
// longer exists (a run SIGKILLed between leasing and recording). Network
// namespaces and cgroups are not swept by name: other state roots on the
// same host may own them; each container's recorded objects are released
// by Refresh instead.
func Leases(e *engine.Engine) ([]string, error) {
	var swept []string
	pools, _ := filepath.Glob(filepath.Join(e.Root, "network", "*"))
	for _, pool := range pools {
		leases, _ := os.ReadDir(pool)
		for _, l := range leases {
			if l.IsDir() || strings.HasPrefix(l.Name(), ".") || l.Name() == "lock" {
				continue
			}
			p := filepath.Join(pool, l.Name())
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			owner := strings.TrimSpace(string(b))
			if len(owner) != 64 {
				continue
			}
			if _, err := os.Stat(e.Store.Dir(owner)); os.IsNotExist(err) {
				vethctl, err := e.Tools.Path("vethctl", "lease cleanup")
				if err != nil {
					return swept, err
				}
				if err := e.RunTool(vethctl, "ipam", "release", owner, "--subnet", strings.Replace(filepath.Base(pool), "-", "/", 1), "--root", e.Root); err == nil {
					swept = append(swept, "lease "+l.Name())
				}
			}
		}
	}
	if len(swept) > 0 {
		return swept, e.SyncFirewall()
	}
	return swept, nil
}
