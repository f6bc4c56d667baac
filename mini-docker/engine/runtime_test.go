package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
	"mini-docker/vethctl/network"
)

// fakeTools makes a folder with an executable file per tool.
func fakeTools(t *testing.T, names ...string) Tools {
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Tools{Dir: dir}
}

// planFor is the plan's Spec for c as Prepare makes it, through the
// OCI spec, with made-up host-side places and a bridge address.
func planFor(t *testing.T, c *container.Container, tools Tools) *Spec {
	t.Helper()
	at := spec.OCIPaths{Merged: "/c/merged", Etc: spec.EtcFiles{Hostname: "/c/hostname", Hosts: "/c/hosts", ResolvConf: "/c/resolv.conf"}, Home: "/root"}
	if ownNetns(c.HostConfig.NetworkMode) {
		at.Netns = "/run/netns/" + NetnsName(c.ID)
	}
	oci, err := spec.OCISpec(c, at)
	if err != nil {
		t.Fatal(err)
	}
	s := planSpec(oci, &c.HostConfig)
	s.ID, s.Self, s.Root, s.Tools, s.Upper, s.Work = c.ID, "/bin/mini-docker", "/r", tools, "/c/diff", "/c/work"
	if ownNetns(s.Network) {
		s.Netns = NetnsName(c.ID)
	}
	if s.Network == container.NetworkBridge {
		s.HostVeth, s.Addr, s.Gateway, s.Bridge = "veth1234567", "172.18.0.2/16", DefaultGateway, DefaultBridge
	}
	return s
}

// testContainer is a recorded bridge run of cmd.
func testContainer(id string, cmd ...string) *container.Container {
	return &container.Container{ID: strings.Repeat(id, 32),
		Config:      container.Config{Hostname: strings.Repeat(id, 6), Cmd: cmd},
		HostConfig:  container.HostConfig{NetworkMode: container.NetworkBridge},
		GraphDriver: container.GraphDriver{Data: map[string]string{"LowerDir": "/l/top:/l/base"}}}
}

func TestBuildPlanIsTheContractChain(t *testing.T) {
	tools := fakeTools(t, "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside")
	c := testContainer("ab", "echo", "hi")
	pids := int64(10)
	c.HostConfig.Memory, c.HostConfig.PidsLimit, c.HostConfig.CpusetCpus = 32<<20, &pids, "0"
	s := planFor(t, c, tools)
	p, err := BuildPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, st := range p.Steps {
		stages = append(stages, st.Stage)
	}
	if !reflect.DeepEqual(stages, []string{"overlay", "cgroup", "netns", "veth", "netconf"}) {
		t.Errorf("stages = %v", stages)
	}
	if got := strings.Join(p.Steps[0].Do, " "); !strings.Contains(got, "--lower /l/top:/l/base") {
		t.Errorf("overlay step %q: want the top layer first", got)
	}
	if got := strings.Join(p.Steps[1].Do, " "); !strings.Contains(got, "--memory 33554432") || !strings.Contains(got, "--pids-limit 10") ||
		!strings.Contains(got, "--cpuset-cpus 0 ") ||
		!strings.HasSuffix(got, " --devices docker") {
		t.Errorf("cgroup step %q: want the limits and Docker's device rules", got)
	}
	if got := strings.Join(p.Steps[4].Do, " "); strings.Contains(got, "disable_ipv6") {
		t.Errorf("netconf step %q: IPv6 stays on with a bridge network, as Docker", got)
	}
	line := strings.Join(p.Chain, " ")
	for _, want := range []string{
		"unshare --mount --uts --ipc --pid --net-path /run/netns/md-abababababab --hostname abababababab --",
		"cgroupctl exec --name " + s.ID,
		"chroot --pivot --docker --bind /c/resolv.conf:/etc/resolv.conf",
		"/proc/self/fd/3 run --profile default --caps CHOWN,",
		"/proc/self/fd/4 run --docker-default --user 0 --",
		"/proc/self/fd/5 __execin . -- echo hi",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("chain lacks %q:\n%s", want, line)
		}
	}
	if !reflect.DeepEqual(p.Files, []string{filepath.Join(tools.Dir, "seccompctl"), filepath.Join(tools.Dir, "capctl"), "/bin/mini-docker"}) {
		t.Errorf("files = %v", p.Files)
	}
	if !strings.HasSuffix(p.ChainLine(), " 3<"+filepath.Join(tools.Dir, "seccompctl")+" 4<"+filepath.Join(tools.Dir, "capctl")+" 5</bin/mini-docker") {
		t.Errorf("chain line does not open the inside tools: %s", p.ChainLine())
	}
}

// testSpec is a bridge run with fake tools, for the plan's unit tests.
func testSpec(t *testing.T) *Spec {
	t.Helper()
	return planFor(t, testContainer("cd", "true"),
		fakeTools(t, "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside"))
}

// TestPlanCgroupNamespaceAfterTheJoin: a new cgroup namespace takes the
// cgroup of the process that makes it as its root. On a v2 host (where
// Docker gives a cgroup namespace) the chain must join the container's
// cgroup before unshare makes the namespace, as runc does, or the
// container would see mini-docker's own cgroup as "/". Without a cgroup
// namespace (v1 and hybrid hosts) the join stays inside, after unshare.
// (This VM is hybrid: the v2 order is checked here, not run.)
func TestPlanCgroupNamespaceAfterTheJoin(t *testing.T) {
	index := func(chain []string, base string) int {
		for i, a := range chain {
			if filepath.Base(a) == base {
				return i
			}
		}
		return -1
	}
	for _, cgroupns := range []bool{true, false} {
		s := testSpec(t)
		s.CgroupNS = cgroupns
		p, err := BuildPlan(s)
		if err != nil {
			t.Fatal(err)
		}
		join, unshare := index(p.Chain, "cgroupctl"), index(p.Chain, "unshare")
		if join < 0 || unshare < 0 || slices.Contains(p.Chain[unshare:], "--cgroup") != cgroupns {
			t.Fatalf("cgroupns %v: chain %v", cgroupns, p.Chain)
		}
		if cgroupns && !(join == 0 && unshare > join) {
			t.Errorf("cgroup namespace: cgroupctl exec must come before unshare --cgroup:\n%s", strings.Join(p.Chain, " "))
		}
		if !cgroupns && !(unshare == 0 && join > unshare) {
			t.Errorf("no cgroup namespace: unshare first, the join inside:\n%s", strings.Join(p.Chain, " "))
		}
		if got := strings.Join(p.Chain[join:join+7], " "); !strings.HasSuffix(got, "cgroupctl exec --name "+s.ID+" --parent mini-docker --") {
			t.Errorf("join = %q", got)
		}
	}
}

// TestPlanPrivilegedAndNetworkNone: --privileged opens every device in the
// cgroup, keeps every capability and runs without seccomp; --network none
// leaves IPv6 on, so lo gets ::1/128 as in Docker 26 (20.10 turned it off).
func TestPlanPrivilegedAndNetworkNone(t *testing.T) {
	c := testContainer("cd", "true")
	c.HostConfig.Privileged, c.HostConfig.NetworkMode = true, container.NetworkNone
	tools := fakeTools(t, "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl", "mini-docker-inside")
	s := planFor(t, c, tools)
	p, err := BuildPlan(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Steps[1].Do, " "); !strings.HasSuffix(got, " --devices all") {
		t.Errorf("--privileged cgroup step %q: want --devices all", got)
	}
	if got := strings.Join(p.Steps[3].Do, " "); p.Steps[3].Stage != "netconf" || strings.Contains(got, "disable_ipv6") {
		t.Errorf("--network none netconf step %q: want IPv6 left on, as Docker 26", got)
	}
	if line := strings.Join(p.Chain, " "); !strings.Contains(line, "run --privileged --user 0 --") || !slices.Contains(p.Caps, "SYS_ADMIN") ||
		strings.Contains(line, "seccompctl") {
		t.Errorf("--privileged chain:\n%s", line)
	}
	// chroot is told too: Docker's mounts without masks or read-only
	// paths, /sys and cgroupfs rw, the host's devices.
	if line := strings.Join(p.Chain, " "); !strings.Contains(line, " --pivot --docker --privileged --bind ") {
		t.Errorf("--privileged chroot step:\n%s", line)
	}
	c.HostConfig.Privileged = false
	if p, _ = BuildPlan(planFor(t, c, tools)); strings.Contains(strings.Join(p.Chain, " "), "--docker --privileged") {
		t.Errorf("a default run must not pass chroot --privileged:\n%s", strings.Join(p.Chain, " "))
	}
	s.User = "1000:1000"
	if p, _ = BuildPlan(s); !strings.Contains(strings.Join(p.Chain, " "), "--user 1000:1000 --") {
		t.Errorf("-u 1000:1000 chain:\n%s", strings.Join(p.Chain, " "))
	}
}

func TestBuildPlanNamesAMissingTool(t *testing.T) {
	tools := fakeTools(t, "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "capctl", "mini-docker-inside")
	_, err := BuildPlan(&Spec{Spec: plan.Spec{ID: "x", Security: spec.Security{Seccomp: "default"}, Argv: []string{"true"}}, Tools: tools, Network: container.NetworkNone})
	if err == nil || !strings.Contains(err.Error(), "seccomp: needs the seccompctl tool") {
		t.Fatalf("BuildPlan = %v", err)
	}
	// Unconfined needs no seccompctl.
	if _, err := BuildPlan(&Spec{Spec: plan.Spec{ID: "x", Security: spec.Security{Seccomp: "unconfined"}, Argv: []string{"true"}}, Tools: tools, Network: container.NetworkNone}); err != nil {
		t.Fatal(err)
	}
}

// TestConfigureNetnsLeavesNoThreadInside: the sysctls and lo are set from
// a thread that enters the container's network namespace; afterwards no
// thread of ours may still be in it. (Go parks, never ends, a locked main
// thread: parked there, /proc/self/net showed the container's links, the
// host veth looked gone and was left behind.)
func TestConfigureNetnsLeavesNoThreadInside(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "ip")
	name := fmt.Sprintf("mdtest-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := network.ConfigureContainerNetns("/run/netns/"+name, true); err != nil {
			t.Fatal(err)
		}
		tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
		for _, task := range tasks {
			if ns, err := os.Readlink(task); err == nil && ns != host {
				t.Fatalf("round %d: thread %s is in %s, not the host's %s", i, task, ns, host)
			}
		}
	}
	out, err := exec.Command("ip", "netns", "exec", name, "sh", "-c",
		"cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ip -o addr show lo").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "0\n") || !strings.Contains(string(out), "127.0.0.1/8") {
		t.Errorf("the namespace after ConfigureNetns: %v\n%s", err, out)
	}
	// IPv6 stays on (Docker 26's lo in a --network none container), where
	// the kernel has it.
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil && !strings.Contains(string(out), "::1/128") {
		t.Errorf("lo without ::1/128 after ConfigureNetns:\n%s", out)
	}
}
