package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv makes TestRequireDockerEngineChild run: the parent test starts
// the test binary again with the environment of the case it checks.
const childEnv = "MINI_DOCKER_TESTENV_DOCKER_CHILD"

// The test the parent runs in a child process, where no docker CLI is
// on PATH; without childEnv it does nothing.
func TestRequireDockerEngineChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		return
	}
	RequireDockerEngine(t)
	t.Log("engine answered")
}

// Without an engine the test skips loudly, but under CI=true it fails,
// unless the host names why it cannot run one.
func TestRequireDockerEngineFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      []string
		wantExit bool
		want     string
	}{
		{"not CI: loud skip", []string{"CI="}, false, "SKIPPED LOUDLY: the docker CLI is not installed"},
		{"CI: failure", []string{"CI=true"}, true, "needs Docker's engine, and CI=true"},
		{"CI with a host reason: skip", []string{"CI=true", NoDockerEnv + "=this VM image has no docker.io"},
			false, "this host runs no Docker engine: this VM image has no docker.io"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRequireDockerEngineChild$", "-test.v")
			cmd.Env = append(os.Environ(), append(tc.env, childEnv+"=1", "PATH="+t.TempDir())...)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantExit || !strings.Contains(string(out), tc.want) {
				t.Errorf("child: %v (want failure: %v), output:\n%s\nwant it to contain %q", err, tc.wantExit, out, tc.want)
			}
		})
	}
}
