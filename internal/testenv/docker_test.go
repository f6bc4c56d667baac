package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"mini-docker/internal/testenv/dockerimages"
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

// A registry's Stop takes out of Docker's engine the images tests
// pulled from it and the stage a multi-stage build left untagged on
// them, and leaves an image that has a name of its own.
func TestRegistryStopForgetsDockerImages(t *testing.T) {
	Integration(t)
	RequireDockerEngine(t)
	r, err := StartRegistry(RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	busybox := PushBusybox(t, r)
	docker := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	docker("pull", "-q", busybox)
	keep := "mdtest/keep:" + itoa(os.Getpid())
	docker("tag", busybox, keep)
	defer exec.Command("docker", "rmi", keep).Run()
	ctx := t.TempDir()
	dockerfile := "FROM " + busybox + " AS one\nRUN echo one > /one\nFROM " + busybox + "\nCOPY --from=one /one /one\n"
	if err := os.WriteFile(ctx+"/Dockerfile", []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	final := "mdtest/forget:" + itoa(os.Getpid())
	docker("build", "--network", "none", "-q", "-t", final, ctx)
	docker("rmi", final)
	left := func() (names, built []string) { return dockerimages.Of(r.Addr) }
	if names, built := left(); len(names) == 0 || len(built) == 0 {
		t.Fatalf("before Stop: names %v, stages built on them %v; want both (the test sets them up)", names, built)
	}
	r.Stop()
	if names, built := left(); len(names)+len(built) > 0 {
		t.Errorf("after Stop, Docker still holds %v and the stages built on them %v", names, built)
	}
	if err := exec.Command("docker", "image", "inspect", keep).Run(); err != nil {
		t.Errorf("%s, a name of its own on the same image, is gone too: %v", keep, err)
	}
}
