package inside_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/capctl/caps"
	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/inside"
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

// TestInsideSeccompProfileFromTheHost: a profile file, read on the host
// and compiled by the launcher (inside.SendFilter), reaches the
// container: its rule denies mkdir, its unknown name is skipped with
// seccompctl's warning; a profile gone from the host fails the start
// with the reading's error, after the pivot, as seccompctl run fails.
func TestInsideSeccompProfileFromTheHost(t *testing.T) {
	testenv.Integration(t)
	prog := testenv.Bin(t, "mini-docker-inside")
	root := testenv.BusyboxRootfs(t)
	profile := filepath.Join(t.TempDir(), "profile.json")
	rules := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat","nosuchcall"],"action":"SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(profile, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &plan.Spec{ID: "insidetest3", Hostname: "filterbox", Merged: root, Workdir: "/",
		Mounts:   []specs.Mount{{Type: "tmpfs", Source: "tmpfs", Destination: "/tmp", Options: []string{"size=1m"}}},
		Security: spec.Security{Seccomp: profile},
		Argv:     []string{"/bin/sh", "-c", "mkdir /tmp/d 2>/dev/null || echo mkdir denied; grep '^Seccomp:' /proc/self/status"}}
	stages, out, errOut, err := startInside(t, prog, s)
	if err != nil {
		t.Fatalf("mini-docker-inside: %v\n%s%s", err, out, errOut)
	}
	if got := strings.Join(stages, " "); got != "cgroup pivot seccomp caps close exec" {
		t.Errorf("stages reported: %q", got)
	}
	if want := "mkdir denied\nSeccomp:\t2\n"; out != want {
		t.Errorf("the command saw:\n%s\nwant:\n%s", out, want)
	}
	if want := "seccompctl: warning: " + profile + `: unknown system call "nosuchcall" skipped (as Docker does)` + "\n"; errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}

	os.Remove(profile)
	stages, out, errOut, err = startInside(t, prog, s)
	var x *exec.ExitError
	if !errors.As(err, &x) || x.ExitCode() != 125 {
		t.Fatalf("without the profile: %v, want exit 125\n%s%s", err, out, errOut)
	}
	if got := strings.Join(stages, " "); got != "cgroup pivot failed" {
		t.Errorf("stages reported: %q", got)
	}
	if !strings.Contains(errOut, "read profile: open "+profile+": no such file or directory") || out != "" {
		t.Errorf("stdout %q, stderr %q: want the profile's error only", out, errOut)
	}
}

// runInside starts mini-docker-inside with s's steps as its input, cloned
// as the engine clones it (new UTS, IPC and PID namespaces; the host's
// network, no cgroup to join), and returns the stages it reported and
// what the command printed.
func runInside(t *testing.T, prog string, s *plan.Spec) ([]string, string) {
	t.Helper()
	stages, out, errOut, err := startInside(t, prog, s)
	if err != nil {
		t.Fatalf("mini-docker-inside: %v\n%s%s", err, out, errOut)
	}
	if errOut != "" {
		t.Logf("stderr: %s", errOut)
	}
	return stages, out
}

// startInside is runInside that also returns the process's stderr and
// how it ended.
func startInside(t *testing.T, prog string, s *plan.Spec) (stages []string, out, errOut string, err error) {
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
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The seccomp filter comes on its own pipe, compiled once the child
	// runs, as the engine sends it.
	filterR, filterW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{specR, statusW, nil, filterR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWPID,
		Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	specR.Close()
	statusW.Close()
	filterR.Close()
	if in.Seccomp != "unconfined" {
		inside.SendFilter(filterW, in)
	}
	filterW.Close()
	sc := bufio.NewScanner(statusR)
	for sc.Scan() {
		stages = append(stages, strings.Fields(sc.Text())[0])
	}
	statusR.Close()
	err = cmd.Wait()
	return stages, stdout.String(), stderr.String(), err
}
