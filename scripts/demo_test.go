// Package scripts holds the shell scripts behind make; this test runs the
// demo the README promises.
package scripts

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// `make demo` reproduces the walkthrough: the first run pulls from the
// local mirror of offline-built images, the second starts from the cache.
// It runs in a network namespace of its own, since mini-docker's default
// bridge network creates a bridge.
func TestDemo(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "docker-registry")
	root := testenv.RepoRoot()
	for _, tool := range []string{"mini-docker", "pull", "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside"} {
		testenv.Bin(t, tool)
	}
	if out, err := exec.Command("make", "-C", root, "-s", "build").CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	cmd := exec.Command("/usr/bin/unshare", "--net", "bash", "-c", "ip link set lo up && bash "+filepath.Join(root, "scripts", "demo"))
	cmd.Env = append(cmd.Environ(), "DEMO_ROOT="+filepath.Join(tmp, "state"), "DEMO_MIRROR_STORAGE="+filepath.Join(tmp, "mirror"))
	out, code := testenv.RunCmd(t, cmd)
	if code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, out)
	}
	want := regexp.MustCompile(`(?s)Unable to find image 'debian:latest' locally\nlatest: Pulling from library/debian\n[0-9a-f]{12}: Pull complete\nDigest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for debian:latest\nhello world\n.*\$ mini-docker run debian echo hello world.*\nhello world\n`)
	if !want.MatchString(out) {
		t.Fatalf("demo output is not the walkthrough's:\n%s", out)
	}
}
