package lessoncheck

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"mini-docker/internal/lessoncheck/probe"
)

// checks1401 are exercise 14.1's checks.
func checks1401(s *State) []Check {
	return []Check{
		serving(s),
		{What: "a container ex-api has the label made-by=curl", Cmd: "mini-docker inspect -f '{{.Config.Labels}}' ex-api",
			Hint: `POST /v1.41/containers/create?name=ex-api with a body that holds "Labels": {"made-by": "curl"}`,
			Test: func() error {
				c, err := probe.Record("ex-api")
				if err == nil && c.Config.Labels["made-by"] != "curl" {
					err = fmt.Errorf("its labels are %v", c.Config.Labels)
				}
				return err
			}},
		{What: "it is running", Cmd: "mini-docker ps --filter name=ex-api",
			Hint: "POST /v1.41/containers/ex-api/start (curl -X POST: the start has no body)",
			Test: func() error { _, err := probe.Running("ex-api"); return err }},
	}
}

// checks1402 are exercise 14.2's checks.
func checks1402(s *State) []Check {
	return []Check{
		serving(s),
		{What: "mini-docker runs a container ex-cli", Cmd: "mini-docker ps --filter name=ex-cli",
			Hint: "export DOCKER_HOST=unix://$PWD/ex.sock; docker run -d --name ex-cli ... IMAGE sleep 300",
			Test: func() error { _, err := probe.Running("ex-cli"); return err }},
		{What: "its process has GREETING=hello in its environment", Cmd: "tr '\\0' '\\n' < /proc/PID/environ",
			Hint: "docker run -e GREETING=hello",
			Test: probe.InContainer("ex-cli", func(pid int) error {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
				if err != nil {
					return probe.NotThere(err)
				}
				if !slices.Contains(strings.Split(string(b), "\x00"), "GREETING=hello") {
					return fmt.Errorf("its environment has no GREETING=hello")
				}
				return nil
			})},
		{What: "its memory limit is 32 MiB", Cmd: "cat /proc/PID/cgroup; cat " + s.CgroupDir("memory") + "/GROUP/" + memLimitFile(s),
			Hint: "docker run -m 32m",
			Test: probe.InContainer("ex-cli", func(pid int) error { return memLimit(s, probe.Proc{PID: pid}, 32<<20) })},
	}
}

// serving checks that mini-docker serve listens on ex.sock in the
// scratch folder.
func serving(s *State) Check {
	sock := s.Path("ex.sock")
	return Check{What: "mini-docker serve listens on ex.sock in your folder", Cmd: "ss -xlp | grep " + sock,
		Hint: "mini-docker serve -H unix://$PWD/ex.sock 2> serve.log &",
		Test: func() error {
			p, err := probe.UnixListener(sock)
			if err != nil {
				return err
			}
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
			if args := strings.Split(string(b), "\x00"); !slices.Contains(args, "serve") {
				return fmt.Errorf("process %d listens there, and it is not mini-docker serve: %s", p.PID, strings.Join(args, " "))
			}
			return nil
		}}
}
