package inside_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/capctl/caps"
	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestInsideStepsAgainstTheKernel: the plan's steps, rendered as
// mini-docker-inside's configuration, do what they say in a real process:
// the hostname, the pivot with Docker's mounts and a read-only bind, the
// seccomp filter, the capability set (Docker's minus --cap-drop), root
// as the user and no_new_privs, then the command with only descriptors 0-2 open. The
// process is cloned as the engine clones it (new UTS, IPC and PID
// namespaces; the host's network, no cgroup to join).
func TestInsideStepsAgainstTheKernel(t *testing.T) {
	testenv.Integration(t)
	prog := testenv.Bin(t, "mini-docker-inside")
	root := testenv.BusyboxRootfs(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "x"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep, err := caps.Compute(caps.DockerDefault, nil, []string{"NET_RAW"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var keepNames []string
	for _, n := range keep.DockerNames() {
		keepNames = append(keepNames, strings.TrimPrefix(n, "CAP_"))
	}
	s := &plan.Spec{ID: "insidetest", Hostname: "insidebox", Merged: root, Workdir: "/tmp",
		Mounts:   []specs.Mount{{Type: "bind", Source: data, Destination: "/data", Options: []string{"rbind", "ro"}}},
		Security: spec.Security{Seccomp: "default", NoNewPrivs: true}, Caps: spec.CapSpec{CapDrop: []string{"NET_RAW"}},
		KeepCaps: keepNames,
		Argv: []string{"/bin/sh", "-c", "hostname; pwd; id -u; cat /data/x; touch /data/y 2>/dev/null || echo read-only; " +
			"grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; ls /proc/self/fd"}}
	stages, out := runInside(t, prog, s)
	if got := strings.Join(stages, " "); got != "cgroup pivot seccomp caps close exec" {
		t.Errorf("stages reported: %q", got)
	}
	want := "insidebox\n/tmp\n0\nfrom the host\nread-only\n" +
		"CapEff:\t" + keep.Hex() + "\nNoNewPrivs:\t1\nSeccomp:\t2\n0\n1\n2\n3\n"
	if out != want {
		t.Errorf("the command saw:\n%s\nwant:\n%s", out, want)
	}
}

// TestInsideReadOnlyRootTmpfsAndUser: the other half of run's flags
// that act inside, against the kernel: --read-only (the root refuses a
// write), --tmpfs (a tmpfs takes one), --shm-size (/dev/shm's size), -u
// 1000:1000 (the command's IDs, and no capability left to it) and
// --security-opt seccomp=unconfined (no filter: the seccomp stage is
// still reported, and installs nothing).
func TestInsideReadOnlyRootTmpfsAndUser(t *testing.T) {
	testenv.Integration(t)
	prog := testenv.Bin(t, "mini-docker-inside")
	root := testenv.BusyboxRootfs(t)
	s := &plan.Spec{ID: "insidetest2", Hostname: "robox", Merged: root, Workdir: "/", ReadOnly: true, Shm: "1048576",
		Mounts:   []specs.Mount{{Type: "tmpfs", Source: "tmpfs", Destination: "/tmp", Options: []string{"size=1m"}}},
		Security: spec.Security{Seccomp: "unconfined"}, User: "1000:1000",
		Argv: []string{"/bin/sh", "-c", "touch /x 2>/dev/null || echo root read-only; touch /tmp/y && echo tmpfs written; " +
			"grep -E ' /(tmp|dev/shm) ' /proc/self/mountinfo | awk '{match($NF, /size=[0-9]+k/); print $5, $(NF-2), substr($NF, RSTART, RLENGTH)}'; " +
			"id -u; id -g; grep -E '^(CapEff|Seccomp):' /proc/self/status"}}
	stages, out := runInside(t, prog, s)
	if got := strings.Join(stages, " "); got != "cgroup pivot seccomp caps close exec" {
		t.Errorf("stages reported: %q", got)
	}
	want := "root read-only\ntmpfs written\n/dev/shm tmpfs size=1024k\n/tmp tmpfs size=1024k\n1000\n1000\nCapEff:\t0000000000000000\nSeccomp:\t0\n"
	if out != want {
		t.Errorf("the command saw:\n%s\nwant:\n%s", out, want)
	}
}

// runInside starts mini-docker-inside with s's steps as its input, cloned
// as the engine clones it (new UTS, IPC and PID namespaces; the host's
// network, no cgroup to join), and returns the stages it reported and
// what the command printed.
func runInside(t *testing.T, prog string, s *plan.Spec) ([]string, string) {
	t.Helper()
	in := plan.RenderInside(plan.Steps(s), s.Argv, prog)
	cfg, _ := json.Marshal(in)

	specR, specW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	specW.Write(cfg)
	specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog)
	cmd.Env = []string{"PATH=/bin"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.ExtraFiles = []*os.File{specR, statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	specR.Close()
	statusW.Close()
	var stages []string
	sc := bufio.NewScanner(statusR)
	for sc.Scan() {
		stages = append(stages, strings.Fields(sc.Text())[0])
	}
	statusR.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mini-docker-inside: %v\n%s%s", err, out.String(), errOut.String())
	}
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return stages, out.String()
}
