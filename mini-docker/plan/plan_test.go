package plan

import (
	"reflect"
	"strings"
	"testing"

	"mini-docker/mini-docker/spec"
)

// TestChainDescriptors: the tools after the pivot are descriptors 3, 4,
// 5; -t's console socket comes next, then one descriptor per hop, and
// --timings names each by its tool's stage.
func TestChainDescriptors(t *testing.T) {
	for _, console := range []bool{false, true} {
		s := &Spec{ID: "id", Hostname: "h", Merged: "/m", Workdir: "/", Security: spec.Security{Seccomp: "default"},
			KeepCaps: []string{"CHOWN"}, Console: console, Argv: []string{"true"}}
		c := RenderChain(Steps(s), s.Argv, func(tool string) string { return "/bin/" + tool })
		if want := []string{"/bin/seccompctl", "/bin/capctl", "/bin/mini-docker"}; !reflect.DeepEqual(c.Files, want) {
			t.Errorf("files %v, want %v", c.Files, want)
		}
		if want := []int{0, 8, 15}; !reflect.DeepEqual(c.Hops, want) {
			t.Errorf("hops %v, want %v in %q", c.Hops, want, c.Argv)
		}
		first := 6
		line := strings.Join(c.Argv, " ")
		if console {
			first = 7
			if !strings.Contains(line, "__execin . --console-socket 6 -- true") {
				t.Errorf("-t: %s", line)
			}
		} else if strings.Contains(line, "--console-socket") {
			t.Errorf("no -t: %s", line)
		}
		want := map[string]string{"exe": "setns (re-exec)", "unshare": "namespaces", "cgroupctl": "cgroup join", "chroot": "pivot",
			"3": "seccomp", "4": "caps", "5": "close fds"}
		for k, stage := range []string{"namespaces", "cgroup join", "pivot"} {
			want[string(rune('0'+first+k))] = stage
		}
		if !reflect.DeepEqual(c.Comms, want) {
			t.Errorf("console %v: comms %v, want %v", console, c.Comms, want)
		}
	}
}

// TestInsideDefaults: an unconfined run has no filter step, and the
// inside configuration says unconfined; the user defaults to root,
// except in a user namespace.
func TestInsideDefaults(t *testing.T) {
	s := &Spec{ID: "id", Merged: "/m", Workdir: "/", Security: spec.Security{Seccomp: "unconfined"}, Argv: []string{"true"}}
	in := RenderInside(Steps(s), s.Argv, "/bin/inside")
	if in.Seccomp != "unconfined" || in.User != "0" || in.Root != "/m" || in.Program != "/bin/inside" {
		t.Errorf("inside = %+v", in)
	}
	s.Userns = true
	if in = RenderInside(Steps(s), s.Argv, "/bin/inside"); in.User != "" || !in.Userns {
		t.Errorf("--userns: inside = %+v", in)
	}
}

// TestExecChain: docker exec's chain joins the group and the first
// process's namespaces by host path (the hops), then runs the same
// filter, capabilities and last hop as a run, as descriptors 3, 4, 5,
// with -t's socket after them; no filter when the run had none.
func TestExecChain(t *testing.T) {
	x := &Exec{ID: "abc", Pid: 42, Seccomp: "default", KeepCaps: []string{"CHOWN"},
		Caps: Caps{Add: []string{"NET_ADMIN"}, User: "1000"}, Workdir: "/w", Console: true}
	path := func(tool string) string { return "/bin/" + tool }
	c := RenderChain(ExecSteps(x), []string{"sh"}, path)
	want := "/bin/cgroupctl exec --name abc --parent mini-docker -- /bin/unshare join 42 -- " +
		"/proc/self/fd/3 run --profile default --caps CHOWN -- " +
		"/proc/self/fd/4 run --docker-default --cap-add NET_ADMIN --user 1000 -- " +
		"/proc/self/fd/5 __execin /w --console-socket 6 -- sh"
	if got := strings.Join(c.Argv, " "); got != want {
		t.Errorf("exec chain:\n%s\nwant\n%s", got, want)
	}
	if want := []int{0, 7}; !reflect.DeepEqual(c.Hops, want) {
		t.Errorf("hops %v, want %v", c.Hops, want)
	}
	if want := []string{"/bin/seccompctl", "/bin/capctl", "/bin/mini-docker"}; !reflect.DeepEqual(c.Files, want) {
		t.Errorf("files %v, want %v", c.Files, want)
	}
	// The same steps as mini-docker-inside's configuration: the process
	// to join, its group, the filter, the capabilities, the directory.
	x.CgroupV1, x.CgroupV2 = []string{"/sys/fs/cgroup/pids/mini-docker/abc"}, "/sys/fs/cgroup/unified/mini-docker/abc"
	in := RenderInside(ExecSteps(x), []string{"sh"}, "/bin/inside")
	if in.Join != 42 || in.Seccomp != "default" || !reflect.DeepEqual(in.SeccompCaps, x.KeepCaps) ||
		!reflect.DeepEqual(in.CgroupV1, x.CgroupV1) || in.CgroupV2 != x.CgroupV2 || in.User != "1000" ||
		!reflect.DeepEqual(in.CapAdd, []string{"NET_ADMIN"}) || in.Workdir != "/w" || !in.Console || in.Root != "" {
		t.Errorf("exec, inside = %+v", in)
	}
	x.Seccomp, x.Console = "unconfined", false
	if in = RenderInside(ExecSteps(x), []string{"sh"}, "/bin/inside"); in.Seccomp != "unconfined" || in.Console {
		t.Errorf("exec, unconfined: inside = %+v", in)
	}
	c = RenderChain(ExecSteps(x), []string{"sh"}, path)
	if got := strings.Join(c.Argv, " "); strings.Contains(got, "--profile") || !strings.HasSuffix(got, "/proc/self/fd/4 __execin /w -- sh") {
		t.Errorf("exec chain, unconfined:\n%s", got)
	}
}

// TestHostSteps: the root filesystem and the cgroup always; a network
// namespace of its own unless --network host, wired to the bridge or,
// with --network none, lo only with IPv6 off.
func TestHostSteps(t *testing.T) {
	stages := func(h *Host) string {
		var s []string
		for _, st := range HostSteps(h) {
			s = append(s, st.Stage)
		}
		return strings.Join(s, ",")
	}
	h := &Host{ID: "id", Lower: []string{"/top", "/base"}, Privileged: true}
	if got := stages(h); got != "overlay,cgroup" {
		t.Errorf("--network host: %s", got)
	}
	if got := strings.Join(HostSteps(h)[0].Args.Flags(), " "); !strings.Contains(got, "--lower /top:/base") {
		t.Errorf("overlay: %s", got)
	}
	if got := strings.Join(HostSteps(h)[1].Args.Flags(), " "); !strings.HasSuffix(got, "--devices all") {
		t.Errorf("cgroup, privileged: %s", got)
	}
	h.OwnNetns, h.Bridged, h.Netns = true, true, "md-x"
	if got := stages(h); got != "overlay,cgroup,netns,veth,netconf" {
		t.Errorf("bridge: %s", got)
	}
	h.Bridged, h.NoNet = false, true
	steps := HostSteps(h)
	if got := stages(h); got != "overlay,cgroup,netns,netconf,lo up" {
		t.Errorf("--network none: %s", got)
	}
	if got := strings.Join(steps[3].Args.Flags(), " "); strings.Contains(got, "disable_ipv6") {
		t.Errorf("netconf, none: %s: IPv6 stays on, as Docker 26 leaves it", got)
	}
}
