package lessoncheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0901 are exercise 09.1's checks.
func checks0901(s *State) []Check {
	p := containerSearch(s, "hand")
	return []Check{
		{What: "a process runs with the host name hand, in a UTS namespace of its own", Cmd: "for p in /proc/[0-9]*; do nsenter --uts --target ${p#/proc/} hostname; done 2>/dev/null | grep -x hand",
			Hint: "unshare --uts --hostname hand ... (the chain of lesson 09's \"The same container, by hand\", ending in sleep 300)", Test: p.stage(0)},
		{What: "it is PID 1 of its own PID namespace", Cmd: "grep NSpid /proc/PID/status",
			Hint: "unshare --pid", Test: p.stage(1)},
		{What: "its root is an overlay mount", Cmd: "awk '$5 == \"/\"' /proc/PID/mountinfo",
			Hint: "overlay mount --lower $LOWER --upper hand/diff --work hand/work hand/merged, then chroot --pivot ... hand/merged", Test: p.stage(2)},
		{What: "its memory cgroup limits it to 64 MiB", Cmd: "cat /proc/PID/cgroup; cat " + s.CgroupDir("memory") + "/GROUP/" + memLimitFile(s),
			Hint: "cgroupctl create hand --memory 64m, and cgroupctl exec --name hand -- ... in the chain", Test: p.stage(3)},
		{What: "it has Docker's default capabilities (CapEff 00000000a80425fb)", Cmd: "grep CapEff /proc/PID/status",
			Hint: "capctl run --docker-default -- ...", Test: p.stage(4)},
		{What: "it runs under a seccomp filter", Cmd: "grep Seccomp: /proc/PID/status",
			Hint: "seccompctl run --profile default -- ...", Test: p.stage(5)},
	}
}

// checks0902 are exercise 09.2's checks.
func checks0902(s *State) []Check {
	p := containerSearch(s, "web")
	return []Check{
		{What: "a process runs with the host name web, in a UTS namespace of its own", Cmd: "mini-docker ps",
			Hint: "mini-docker run -d --name web --hostname web --memory 32m --pids-limit 20 --read-only --network none IMAGE sleep 300", Test: p.stage(0)},
		{What: "it is PID 1 of its own PID namespace", Cmd: "grep NSpid /proc/PID/status", Hint: "run it with mini-docker run", Test: p.stage(1)},
		{What: "its root is an overlay mount, read-only", Cmd: "awk '$5 == \"/\"' /proc/PID/mountinfo",
			Hint: "--read-only", Test: func() error {
				return p.also(2, func(pr probe.Proc) error {
					return probe.RootReadOnly(pr.PID)
				})
			}},
		{What: "its memory limit is 32 MiB", Cmd: "cat /proc/PID/cgroup",
			Hint: "--memory 32m", Test: func() error {
				return p.also(1, func(pr probe.Proc) error { return memLimit(s, pr, 32<<20) })
			}},
		{What: "its pids limit is 20", Cmd: "cat " + s.CgroupDir("pids") + "/GROUP/pids.max",
			Hint: "--pids-limit 20", Test: func() error {
				return p.also(1, func(pr probe.Proc) error {
					g, err := groupOf(s, pr.PID, "pids")
					if err != nil {
						return err
					}
					return probe.FileIs(g+"/pids.max", "20")
				})
			}},
	}
}

// containerSearch looks for a container's process by its host name, and
// then its PID namespace, its overlay root, a 64 MiB memory limit,
// Docker's capabilities and a seccomp filter.
func containerSearch(s *State, hostname string) *procSearch {
	return &procSearch{what: "named " + hostname + " in a UTS namespace of its own", stages: []func(p probe.Proc) error{
		named(hostname),
		probe.Proc.PID1,
		func(p probe.Proc) error {
			ms, err := probe.MountsOf(strconv.Itoa(p.PID))
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.Point == "/" && m.FSType == "overlay" {
					return nil
				}
			}
			return fmt.Errorf("its / is not an overlay mount")
		},
		func(p probe.Proc) error { return memLimit(s, p, 64<<20) },
		func(p probe.Proc) error {
			if e := p.Caps("CapEff"); e != 0xa80425fb {
				return fmt.Errorf("its CapEff is %016x", e)
			}
			return nil
		},
		func(p probe.Proc) error {
			if p.Status["Seccomp"] != "2" {
				return fmt.Errorf("its Seccomp is %s", p.Status["Seccomp"])
			}
			return nil
		},
	}}
}

// named is a search's first stage: a process in a UTS namespace of its
// own whose host name is name; any other is no candidate.
func named(name string) func(p probe.Proc) error {
	return func(p probe.Proc) error {
		if !probe.OwnHostname(p.PID, name) {
			return probe.ErrSkip
		}
		return nil
	}
}

// also runs an extra condition on the process a search found, when it
// passed the search's first n conditions.
func (s *procSearch) also(n int, f func(p probe.Proc) error) error {
	s.run()
	if !s.found {
		return fmt.Errorf("no such process yet")
	}
	for i := 1; i < n && i < len(s.errs); i++ {
		if s.errs[i] != nil {
			return fmt.Errorf("not the right process yet")
		}
	}
	return f(s.best)
}

// memLimitFile is the name of the memory limit file on this host.
func memLimitFile(s *State) string {
	if s.V2() {
		return "memory.max"
	}
	return "memory.limit_in_bytes"
}

// memLimit checks a process's memory cgroup limit.
func memLimit(s *State, p probe.Proc, want int64) error {
	g, err := groupOf(s, p.PID, "memory")
	if err != nil {
		return err
	}
	n, err := probe.IntOf(filepath.Join(g, memLimitFile(s)))
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%s/%s is %d", g, memLimitFile(s), n)
	}
	return nil
}

// groupOf returns the folder of a process's group for controller ctrl,
// from /proc/PID/cgroup as the checker (outside any cgroup namespace of
// the process) reads it.
func groupOf(s *State, pid int, ctrl string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", probe.NotThere(err)
	}
	path, ok := probe.GroupIn(string(b), ctrl, s.V2())
	if !ok {
		return "", fmt.Errorf("process %d has no %s group", pid, ctrl)
	}
	return filepath.Join(s.CgroupDir(ctrl), path), nil
}
