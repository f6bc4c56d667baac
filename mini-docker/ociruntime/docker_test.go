package ociruntime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mini-docker/internal/testenv"
)

// dockerd is a Docker engine of the test's own (its data root, exec root
// and socket in a temporary folder, no bridge, no iptables), with our
// runtime added as "mini": what `dockerd --add-runtime mini=PATH` does
// for a learner. It returns the docker command line to talk to it.
func dockerd(t *testing.T) func(args ...string) (string, int) {
	t.Helper()
	bin := testenv.RequireCommand(t, "dockerd")
	dockerCLI := testenv.RequireCommand(t, "docker")
	testenv.Bin(t, "unshare") // exec's hop
	runtime := filepath.Join(filepath.Dir(testenv.Bin(t, "mini-docker")), "mini-docker-runtime")
	dir, err := os.MkdirTemp("", "oci-dockerd-") // short: the engine's sockets live under it
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + dir + "/docker.sock"
	log, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--data-root", dir+"/data", "--exec-root", dir+"/exec", "--pidfile", dir+"/docker.pid",
		"-H", sock, "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
		"--ip-masq=false", "--userland-proxy=false", "--add-runtime", "mini="+runtime)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait() // dockerd stops its containerd before it exits
		log.Close()
		os.RemoveAll(dir)
	})
	docker := func(args ...string) (string, int) {
		return runFile(t, exec.Command(dockerCLI, append([]string{"-H", sock}, args...)...))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, code := docker("info"); code != 0; _, code = docker("info") {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("dockerd did not answer within 2 minutes:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return docker
}

// TestDockerOnOurRuntime: Docker's whole stack (dockerd, containerd,
// containerd's runc shim) with our runtime at the bottom: run of debian
// prints hello world; -d, exec (with its exit code), stop and rm work; -m 32m
// ends an allocation loop with the OOM killer (137); nothing is left.
func TestDockerOnOurRuntime(t *testing.T) {
	testenv.Integration(t)
	docker := dockerd(t)
	rootfs := testenv.BusyboxRootfs(t)
	if out, code := dockerImport(t, docker, rootfs); code != 0 {
		t.Fatalf("docker import: exit %d: %s", code, out)
	}
	// Each container writes its ID to a file of its own: their groups
	// are looked for at the end (other engines' containers may come and go
	// under the same parent meanwhile).
	cids := t.TempDir()
	n := 0
	runArgs := func(args ...string) []string {
		n++
		return append([]string{"run", "--runtime", "mini", "--network", "none", "--cidfile", filepath.Join(cids, fmt.Sprint(n))}, args...)
	}
	// The issue's own line, on Debian's root filesystem.
	if out, code := docker("import", testenv.DebianTar(t), "debian"); code != 0 {
		t.Fatalf("docker import of the Debian rootfs: exit %d: %s", code, out)
	}
	if out, code := docker(runArgs("--rm", "debian", "echo", "hello", "world")...); code != 0 || out != "hello world\n" {
		t.Fatalf("docker run --runtime mini --rm --network none debian echo hello world: exit %d: %q", code, out)
	}
	if out, code := docker(runArgs("-d", "--name", "d1", "busybox:oci", "sleep", "1000")...); code != 0 {
		t.Fatalf("docker run -d: exit %d: %s", code, out)
	}
	if out, code := docker("exec", "d1", "sh", "-c", "echo in $(hostname); cat /proc/1/cmdline"); code != 0 || !strings.HasPrefix(out, "in ") || !strings.HasSuffix(out, "sleep\x001000\x00") {
		t.Errorf("docker exec: exit %d: %q", code, out)
	}
	if out, code := docker("exec", "d1", "sh", "-c", "exit 5"); code != 5 {
		t.Errorf("docker exec of exit 5: exit %d: %s", code, out)
	}
	if out, code := docker("stop", "-t", "1", "d1"); code != 0 {
		t.Errorf("docker stop: exit %d: %s", code, out)
	}
	if out, code := docker("rm", "d1"); code != 0 {
		t.Errorf("docker rm: exit %d: %s", code, out)
	}
	if out, code := docker(runArgs("--rm", "-m", "32m", "--memory-swap", "32m", "busybox:oci", "sh", "-c", "x=a; while true; do x=$x$x; done")...); code != 137 {
		t.Errorf("docker run -m 32m with a growing string: exit %d, want 137 (OOM): %s", code, out)
	}
	if out, _ := docker("ps", "-aq"); out != "" {
		t.Errorf("containers left: %s", out)
	}
	files, _ := os.ReadDir(cids)
	if len(files) != n {
		t.Errorf("%d container ID files for %d runs", len(files), n)
	}
	for _, f := range files {
		id, _ := os.ReadFile(filepath.Join(cids, f.Name()))
		for _, h := range []string{"pids", "memory", "unified", ""} {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", h, "docker", string(id))); err == nil {
				t.Errorf("group left: /sys/fs/cgroup/%s/docker/%s", h, id)
			}
		}
	}
}

// dockerImport makes the busybox image in the engine from a rootfs.
func dockerImport(t *testing.T, docker func(...string) (string, int), rootfs string) (string, int) {
	t.Helper()
	tar := filepath.Join(t.TempDir(), "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tar, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return docker("import", tar, "busybox:oci")
}
