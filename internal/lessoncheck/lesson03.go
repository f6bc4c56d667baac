package lessoncheck

import (
	"fmt"
	"path/filepath"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0301 are exercise 03.1's checks.
func checks0301(s *State) []Check {
	g := filepath.Join(s.CgroupDir("memory"), "mine-mem")
	limit, events, key := g+"/memory.limit_in_bytes", g+"/memory.oom_control", "oom_kill"
	if s.V2() {
		limit, events = g+"/memory.max", g+"/memory.events"
	}
	return []Check{
		{What: "a group mine-mem exists in the memory tree", Cmd: "ls -d " + g,
			Hint: "mkdir " + g, Test: func() error { return probe.IsDir(g) }},
		{What: "its memory limit is 32 MiB", Cmd: "cat " + limit,
			Hint: "echo 33554432 > " + limit, Test: func() error { return probe.FileIs(limit, "33554432") }},
		{What: "the OOM killer has killed a process in it", Cmd: "grep oom_kill " + events,
			Hint: "sh -c \"echo \\$\\$ > " + g + "/cgroup.procs && exec hog mem 64m\" (on v2 also echo 0 > " + g + "/memory.swap.max, or it swaps instead)",
			Test: func() error { return atLeast(events, key, 1) }},
	}
}

// checks0302 are exercise 03.2's checks.
func checks0302(s *State) []Check {
	g := filepath.Join(s.CgroupDir("pids"), "mine")
	return []Check{
		{What: "a group mine exists in the pids tree", Cmd: "ls -d " + g,
			Hint: "mkdir " + g, Test: func() error { return probe.IsDir(g) }},
		{What: "its pids.max is 50", Cmd: "cat " + g + "/pids.max",
			Hint: "echo 50 > " + g + "/pids.max", Test: func() error { return probe.FileIs(g+"/pids.max", "50") }},
		{What: "a process is in it", Cmd: "cat " + g + "/cgroup.procs",
			Hint: "sh -c \"echo \\$\\$ > " + g + "/cgroup.procs; hog fork 100; exec sleep 300\" &",
			Test: func() error { return probe.HasProcess(g) }},
		{What: "the kernel refused a fork past the limit", Cmd: "cat " + g + "/pids.events",
			Hint: "fork more than 50 tasks from inside: hog fork 100 (or a shell loop of sleeps)",
			Test: func() error { return atLeast(g+"/pids.events", "max", 1) }},
	}
}

// checks0303 are exercise 03.3's checks.
func checks0303(s *State) []Check {
	g := filepath.Join(s.CgroupDir("freezer"), "mine-frozen")
	state := Check{What: "the group is frozen", Cmd: "cat " + g + "/freezer.state",
		Hint: "echo FROZEN > " + g + "/freezer.state", Test: func() error { return probe.FileIs(g+"/freezer.state", "FROZEN") }}
	if s.V2() {
		state = Check{What: "the group is frozen", Cmd: "grep frozen " + g + "/cgroup.events",
			Hint: "echo 1 > " + g + "/cgroup.freeze", Test: func() error { return atLeast(g+"/cgroup.events", "frozen", 1) }}
	}
	return []Check{
		{What: "a group mine-frozen exists in the freezer tree", Cmd: "ls -d " + g,
			Hint: "mkdir " + g, Test: func() error { return probe.IsDir(g) }},
		{What: "a process is in it", Cmd: "cat " + g + "/cgroup.procs",
			Hint: "sh -c \"echo \\$\\$ > " + g + "/cgroup.procs; exec hog count counter\" &",
			Test: func() error { return probe.HasProcess(g) }},
		state,
	}
}

// atLeast checks that the counter key of a "key value" file is at least n.
func atLeast(path, key string, n int64) error {
	v, err := probe.Keyed(path, key)
	if err != nil {
		return err
	}
	if v < n {
		return fmt.Errorf("%s is %d", key, v)
	}
	return nil
}
