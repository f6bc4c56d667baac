package engine

import (
	"os"
	"path/filepath"
	"strings"
)

// Sweep releases address leases of this state root whose container no
// longer exists (a run SIGKILLed between leasing and recording). Network
// namespaces and cgroups are not swept by name: other state roots on the
// same host may own them; each container's recorded objects are released
// by Refresh instead.
func (e *Engine) Sweep() ([]string, error) {
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
				if err := runTool(e.Explain, []string{vethctl, "ipam", "release", owner, "--subnet", strings.Replace(filepath.Base(pool), "-", "/", 1), "--root", e.Root}); err == nil {
					swept = append(swept, "lease "+l.Name())
				}
			}
		}
	}
	if len(swept) > 0 {
		return swept, e.syncFirewall()
	}
	return swept, nil
}
