package lessoncheck

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/ociruntime"
)

// checks1501 are exercise 15.1's checks.
func checks1501(s *State) []Check {
	return []Check{
		{What: "ex-bundle/config.json gives the host name oci-ex", Cmd: "jq .hostname ex-bundle/config.json",
			Hint: "mkdir -p ex-bundle/rootfs (busybox in rootfs/bin), cd ex-bundle && mini-docker runtime spec, then jq '.hostname = \"oci-ex\"'",
			Test: bundleSpec(s, func(sp *specs.Spec) error {
				if sp.Hostname != "oci-ex" {
					return fmt.Errorf("its hostname is %q", sp.Hostname)
				}
				return nil
			})},
		{What: "its process is sleep, without a terminal", Cmd: "jq -c '.process.args, .process.terminal' ex-bundle/config.json",
			Hint: "jq '.process.terminal = false | .process.args = [\"sleep\", \"300\"]'",
			Test: bundleSpec(s, func(sp *specs.Spec) error {
				if sp.Process == nil || len(sp.Process.Args) == 0 || sp.Process.Args[0] != "sleep" || sp.Process.Terminal {
					return fmt.Errorf("its process is %+v", sp.Process)
				}
				return nil
			})},
		{What: "the runtime (--root state) runs ex1 from ex-bundle", Cmd: "mini-docker runtime --root state state ex1",
			Hint: "mini-docker runtime --root state create --bundle ex-bundle ex1, then start ex1",
			Test: func() error { _, err := runtimeContainer(s, "ex1"); return err }},
		{What: "its first process is PID 1 of its own PID namespace, with the host name oci-ex", Cmd: "grep NSpid /proc/PID/status; nsenter --uts --target PID hostname",
			Hint: "the namespaces of config.json (runtime spec's default has pid and uts) and its hostname",
			Test: func() error {
				st, err := runtimeContainer(s, "ex1")
				if err != nil {
					return err
				}
				p, err := probe.ProcOf(st.Pid)
				if err == nil {
					err = p.PID1()
				}
				if err != nil {
					return err
				}
				name, err := probe.HostnameOf(st.Pid)
				if err == nil && (name != "oci-ex" || !probe.OwnNS(st.Pid, "uts")) {
					err = fmt.Errorf("its host name is %q", name)
				}
				return err
			}},
	}
}

// checks1502 are exercise 15.2's checks.
func checks1502(s *State) []Check {
	return []Check{
		{What: "ex-bundle/config.json limits memory to 32 MiB", Cmd: "jq .linux.resources.memory ex-bundle/config.json",
			Hint: "jq '.linux.resources.memory = {\"limit\": 33554432}' (bytes)",
			Test: bundleSpec(s, func(sp *specs.Spec) error {
				if r := sp.Linux; r == nil || r.Resources == nil || r.Resources.Memory == nil || r.Resources.Memory.Limit == nil || *r.Resources.Memory.Limit != 32<<20 {
					return fmt.Errorf("linux.resources.memory.limit is not 33554432")
				}
				return nil
			})},
		{What: "the runtime (--root state) runs ex2 from ex-bundle", Cmd: "mini-docker runtime --root state state ex2",
			Hint: "mini-docker runtime --root state create --bundle ex-bundle ex2, then start ex2 (the process must keep running: sleep 300)",
			Test: func() error { _, err := runtimeContainer(s, "ex2"); return err }},
		{What: "the kernel holds its process to 32 MiB", Cmd: "cat /proc/PID/cgroup; cat " + s.CgroupDir("memory") + "/GROUP/" + memLimitFile(s),
			Hint: "the runtime writes config.json's limit into the container's memory group: was ex2 created after the change?",
			Test: func() error {
				st, err := runtimeContainer(s, "ex2")
				if err != nil {
					return err
				}
				return memLimit(s, probe.Proc{PID: st.Pid}, 32<<20)
			}},
	}
}

// bundleSpec is a check's test that reads ex-bundle/config.json as the
// runtime spec's type and runs f on it.
func bundleSpec(s *State, f func(*specs.Spec) error) func() error {
	return func() error {
		var sp specs.Spec
		if err := readJSON(s.Path("ex-bundle/config.json"), &sp); err != nil {
			return err
		}
		return f(&sp)
	}
}

// runtimeContainer reads container id's state as `mini-docker runtime
// --root state` keeps it (state/ID/state.json), and checks that it was
// made from ex-bundle and runs: its first process is alive (the same
// process: its start time is the one recorded) and started (the
// exec.fifo that create leaves is gone).
func runtimeContainer(s *State, id string) (*ociruntime.State, error) {
	dir := filepath.Join(s.Path("state"), id)
	var st ociruntime.State
	if err := readJSON(filepath.Join(dir, "state.json"), &st); err != nil {
		return nil, err
	}
	if !probe.SameFile(st.Bundle, s.Path("ex-bundle")) {
		return nil, fmt.Errorf("%s was made from %s", id, st.Bundle)
	}
	if !container.Alive(st.Pid, st.PidStart) {
		return nil, fmt.Errorf("%s's process %d is gone", id, st.Pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "exec.fifo")); err == nil {
		return nil, fmt.Errorf("%s is created, not started", id)
	}
	return &st, nil
}
