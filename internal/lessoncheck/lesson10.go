package lessoncheck

import (
	"fmt"
	"strings"

	"mini-docker/internal/lessoncheck/probe"
)

// checks1001 are exercise 10.1's checks.
func checks1001(s *State) []Check {
	d, m := runtimeSearch(s, "ex10", true), runtimeSearch(s, "ex10", false)
	return []Check{
		{What: "Docker runs a container with the host name ex10", Cmd: "docker ps --filter name=ex10",
			Hint: "docker run -d --name ex10-docker --hostname ex10 --memory 64m --network none IMAGE sleep 300", Test: d.stage(0)},
		{What: "its memory limit is 64 MiB", Cmd: "cat /proc/$(docker inspect -f '{{.State.Pid}}' ex10-docker)/cgroup",
			Hint: "--memory 64m", Test: d.stage(1)},
		{What: "mini-docker runs one with the host name ex10 too", Cmd: "mini-docker ps --filter name=ex10",
			Hint: "mini-docker run -d --name ex10 --hostname ex10 --memory 64m --network none IMAGE sleep 300", Test: m.stage(0)},
		{What: "its memory limit is 64 MiB as well", Cmd: "cat /proc/$(mini-docker inspect -f '{{.State.Pid}}' ex10)/cgroup",
			Hint: "--memory 64m", Test: m.stage(1)},
	}
}

// checks1002 are exercise 10.2's checks.
func checks1002(s *State) []Check {
	d, m := lockedSearch(s, "ex10ro", true), lockedSearch(s, "ex10ro", false)
	return []Check{
		{What: "Docker runs a container with the host name ex10ro", Cmd: "docker ps --filter name=ex10ro",
			Hint: "docker run -d --name ex10ro-docker --hostname ex10ro --read-only --cap-drop ALL --network none IMAGE sleep 300", Test: d.stage(0)},
		{What: "its root is read-only", Cmd: "awk '$5 == \"/\"' /proc/PID/mountinfo", Hint: "--read-only", Test: d.stage(1)},
		{What: "it has no capability at all", Cmd: "grep CapEff /proc/PID/status", Hint: "--cap-drop ALL", Test: d.stage(2)},
		{What: "mini-docker runs one with the host name ex10ro too", Cmd: "mini-docker ps",
			Hint: "mini-docker run -d --name ex10ro --hostname ex10ro --read-only --cap-drop ALL --network none IMAGE sleep 300", Test: m.stage(0)},
		{What: "its root is read-only", Cmd: "awk '$5 == \"/\"' /proc/PID/mountinfo", Hint: "--read-only", Test: m.stage(1)},
		{What: "it has no capability at all", Cmd: "grep CapEff /proc/PID/status", Hint: "--cap-drop ALL", Test: m.stage(2)},
	}
}

// byRuntime is the first condition of a search for a container of
// Docker's (docker true) or mini-docker's: the host name, and a memory
// group whose path names the runtime (docker/ID or docker-ID.scope for
// Docker, mini-docker/ID for mini-docker).
func byRuntime(s *State, hostname string, docker bool) func(p probe.Proc) error {
	return func(p probe.Proc) error {
		if p.Status["Name"] != "sleep" || !probe.OwnHostname(p.PID, hostname) {
			return probe.ErrSkip
		}
		g, err := groupOf(s, p.PID, "memory")
		if err != nil {
			return probe.ErrSkip
		}
		if strings.Contains(g, "mini-docker") != !docker || !strings.Contains(g, "docker") {
			return probe.ErrSkip
		}
		return nil
	}
}

func runtimeSearch(s *State, hostname string, docker bool) *procSearch {
	return &procSearch{what: fmt.Sprintf("a sleep named %s in a container of %s", hostname, runtimeName(docker)), stages: []func(p probe.Proc) error{
		byRuntime(s, hostname, docker),
		func(p probe.Proc) error { return memLimit(s, p, 64<<20) },
	}}
}

func lockedSearch(s *State, hostname string, docker bool) *procSearch {
	return &procSearch{what: fmt.Sprintf("a sleep named %s in a container of %s", hostname, runtimeName(docker)), stages: []func(p probe.Proc) error{
		byRuntime(s, hostname, docker),
		func(p probe.Proc) error {
			return probe.RootReadOnly(p.PID)
		},
		func(p probe.Proc) error {
			if e := p.Caps("CapEff"); e != 0 {
				return fmt.Errorf("its CapEff is %016x", e)
			}
			return nil
		},
	}}
}

func runtimeName(docker bool) string {
	if docker {
		return "Docker"
	}
	return "mini-docker"
}
