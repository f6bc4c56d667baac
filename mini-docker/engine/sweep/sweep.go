// Package sweep releases what crashed runs left behind that no
// container records: the address leases of containers whose state is
// gone, and the cgroups made early for a container never recorded. Lesson 09 (lessons/09-mini-docker.md) teaches it, with `mini-docker
// container prune`.
package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
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

// EarlyRecord is the file that records the cgroup a foreground run
// makes for container id before the container's state exists (its
// first process is cloned into it early: launch.Prestart). The run
// writes it before it makes the group and removes it when it ends.
func EarlyRecord(e *engine.Engine, id string) string {
	return filepath.Join(e.Root, "early", id)
}

// WriteEarlyRecord writes the EarlyRecord at path: this run's PID and
// start time, so that EarlyGroups leaves the group of a run still going
// alone. It is written whole or not at all (a file renamed into place),
// since another run's EarlyGroups may read it at any moment.
func WriteEarlyRecord(path string) error {
	os.Mkdir(filepath.Dir(path), 0o700)
	st, err := container.StartTime(os.Getpid())
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", os.Getpid(), st), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// EarlyGroups deletes the cgroups that runs made early (EarlyRecord) and
// that no container's state records: the run was killed before it had
// recorded the group (the container's state may exist already, without
// it), or before it could remove the group itself. A group a state
// records is released with its container (Engine.Refresh).
func EarlyGroups(e *engine.Engine) []string {
	var swept []string
	records, _ := filepath.Glob(filepath.Join(e.Root, "early", "*"))
	for _, r := range records {
		var pid int
		var start uint64
		b, err := os.ReadFile(r)
		if err != nil {
			continue // removed by its run meanwhile
		}
		id := filepath.Base(r)
		if n, _ := fmt.Sscan(string(b), &pid, &start); n != 2 || container.Alive(pid, start) || len(id) != 64 {
			continue
		}
		if c, err := e.Store.Load(id); err != nil || c.Runtime.Cgroup != id {
			h, err := cgroup.Detected()
			if err != nil {
				continue
			}
			if g, err := cgroup.Open(h, engine.CgroupParent, id); err == nil {
				if g.Delete(true, e.Explain) != nil {
					continue
				}
				swept = append(swept, "cgroup "+engine.CgroupParent+"/"+id)
			}
		}
		os.Remove(r)
	}
	return swept
}
