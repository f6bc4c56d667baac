package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// NoDockerEnv names the variable a CI host sets when Docker's engine
// cannot run on it at all, with the reason (for example "the VM image
// has no docker.io package for this distribution"). Only then may a test
// that needs the engine skip under CI=true.
const NoDockerEnv = "MINI_DOCKER_NO_DOCKER_REASON"

// RequireDockerEngine skips t, loudly, unless Docker's engine answers,
// and returns the engine's version. Under CI=true a missing engine fails
// the test instead (scripts/dockerd should have started it), unless the
// host names why it cannot run one in MINI_DOCKER_NO_DOCKER_REASON.
func RequireDockerEngine(t testing.TB) string {
	t.Helper()
	version, err := dockerEngineVersion()
	if err == nil {
		return version
	}
	if reason := strings.TrimSpace(os.Getenv(NoDockerEnv)); reason != "" {
		line := "!!! SKIPPED LOUDLY: this host runs no Docker engine: " + reason
		fmt.Fprintln(os.Stderr, line)
		t.Skip(line)
	}
	if InCI() {
		t.Fatalf("needs Docker's engine, and CI=true: %v; scripts/dockerd should have started it "+
			"(or set %s to the reason this host cannot run one)", err, NoDockerEnv)
	}
	line := fmt.Sprintf("!!! SKIPPED LOUDLY: %v (start it: bash scripts/dockerd)", err)
	fmt.Fprintln(os.Stderr, line)
	t.Skip(line)
	return ""
}

// dockerEngineVersion asks the engine for its version, which needs both
// the CLI and a running daemon.
func dockerEngineVersion() (string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return "", fmt.Errorf("the docker CLI is not installed (make setup installs docker.io)")
	}
	out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	version := strings.TrimSpace(string(out))
	if err != nil || version == "" {
		return "", fmt.Errorf("no Docker engine answers (docker version: %v: %s)", err, version)
	}
	return version, nil
}
