package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/plan"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/mounts"
)

// What a run flag changes, by layer: each is checked against a run
// without it.
const (
	inChain  = "chain"  // the steps inside the namespaces (both renderings)
	inOCI    = "oci"    // the OCI spec (resources, environment): host steps
	inRecord = "record" // only the recorded Config/HostConfig, or how the run attaches
)

// runFlagCases has one case per docker run flag (TestEveryRunFlagIsCovered
// fails on a flag without one).
func runFlagCases(t *testing.T) []struct {
	flag  string
	args  []string
	layer string
} {
	dir := t.TempDir()
	oomLayer := inOCI // memory.oom_control
	if spec.CgroupV2() {
		oomLayer = inRecord // dropped with Docker's warning: v2 has no switch
	}
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("FROM_FILE=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []struct {
		flag  string
		args  []string
		layer string
	}{
		{"help", nil, inRecord},
		{"explain", []string{"--explain"}, inRecord},
		{"timings", []string{"--timings"}, inRecord},
		{"tool-chain", []string{"--tool-chain"}, inRecord},
		{"detach", []string{"-d"}, inRecord},
		{"name", []string{"--name", "x"}, inRecord},
		{"rm", []string{"--rm"}, inRecord},
		{"label", []string{"--label", "app=web"}, inRecord},
		{"interactive", []string{"-i"}, inRecord},
		{"tty", []string{"-t"}, inChain},
		{"env", []string{"-e", "A=1"}, inOCI},
		{"env-file", []string{"--env-file", envFile}, inOCI},
		{"workdir", []string{"-w", "/srv"}, inChain},
		{"user", []string{"-u", "1000:1000"}, inChain},
		{"hostname", []string{"-h", "box"}, inChain},
		{"entrypoint", []string{"--entrypoint", "sh"}, inChain},
		{"volume", []string{"-v", dir + ":/data:ro"}, inChain},
		{"mount", []string{"--mount", "type=bind,src=" + dir + ",dst=/b,bind-propagation=rshared"}, inChain},
		{"tmpfs", []string{"--tmpfs", "/run:size=1m"}, inChain},
		{"volumes-from", []string{"--volumes-from", "src:ro"}, inChain},
		{"publish", []string{"-p", "127.0.0.1:8080:80"}, inRecord},
		{"publish-all", []string{"-P"}, inRecord},
		{"network", []string{"--network", "host"}, inChain},
		{"memory", []string{"-m", "32m"}, inOCI},
		{"memory-swap", []string{"-m", "32m", "--memory-swap", "64m"}, inOCI},
		{"cpus", []string{"--cpus", "0.5"}, inOCI},
		{"cpu-shares", []string{"-c", "512"}, inOCI},
		{"cpuset-cpus", []string{"--cpuset-cpus", "0"}, inOCI},
		{"pids-limit", []string{"--pids-limit", "10"}, inOCI},
		{"cap-add", []string{"--cap-add", "NET_ADMIN"}, inChain},
		{"cap-drop", []string{"--cap-drop", "CHOWN"}, inChain},
		{"privileged", []string{"--privileged"}, inChain},
		{"group-add", []string{"--group-add", "audio", "--group-add", "5"}, inChain},
		{"security-opt", []string{"--security-opt", "no-new-privileges"}, inChain},
		{"read-only", []string{"--read-only"}, inChain},
		{"init", []string{"--init"}, inChain},
		{"pull", []string{"--pull", "never"}, inRecord},
		{"label", []string{"--label", "tier=web"}, inRecord},
		{"stop-signal", []string{"--stop-signal", "USR1"}, inRecord},
		{"stop-timeout", []string{"--stop-timeout", "3"}, inRecord},
		// What the monitor does: HostConfig only (engine/restart).
		{"restart", []string{"--restart", "on-failure:2"}, inRecord},
		{"health-cmd", []string{"--health-cmd", "true"}, inRecord},
		{"health-interval", []string{"--health-interval", "5s"}, inRecord},
		{"health-timeout", []string{"--health-timeout", "2s"}, inRecord},
		{"health-start-period", []string{"--health-start-period", "1s"}, inRecord},
		{"health-start-interval", []string{"--health-start-interval", "1s"}, inRecord},
		{"health-retries", []string{"--health-retries", "4"}, inRecord},
		{"no-healthcheck", []string{"--no-healthcheck"}, inRecord},
		{"log-opt", []string{"--log-opt", "max-size=1m"}, inRecord},
		{"platform", []string{"--platform", "linux/amd64"}, inRecord},
		{"userns", []string{"--userns"}, inChain},
		{"memory-reservation", []string{"--memory-reservation", "16m"}, inOCI},
		{"oom-kill-disable", []string{"--oom-kill-disable"}, oomLayer},
		{"shm-size", []string{"--shm-size", "1m"}, inChain},
		{"device", []string{"--device", "/dev/null:/dev/mynull:r"}, inChain},
		{"ulimit", []string{"--ulimit", "nofile=1024:2048", "--ulimit", "nproc=50"}, inChain},
		// The files the runtime writes (resolv.conf, hosts): neither
		// the chain nor the spec changes.
		{"add-host", []string{"--add-host", "db:10.0.0.9"}, inRecord},
		{"dns", []string{"--dns", "10.0.0.53"}, inRecord},
		{"dns-option", []string{"--dns-option", "ndots:2"}, inRecord},
		{"dns-search", []string{"--dns-search", "example.com"}, inRecord},
		{"network-alias", []string{"--network", "app", "--network-alias", "db"}, inRecord},
		// The lease and eth0's MAC: host steps (vethctl create --mac), not the chain.
		{"ip", []string{"--network", "app", "--ip", "10.0.0.9"}, inRecord},
		{"mac-address", []string{"--mac-address", "92:d0:c6:0a:29:33"}, inRecord},
	}
}

// rendered is one run's plan from its flags, as Create and Prepare make
// it: flags → Config/HostConfig → OCI spec → steps → both renderings.
type rendered struct {
	oci    string
	chain  []string
	inside *container.Inside
}

func renderRun(t *testing.T, args []string) rendered {
	t.Helper()
	var o spec.Options
	f, _ := spec.RunFlags(&o)
	if err := f.Parse(append(args, "img")); err != nil {
		t.Fatal(err)
	}
	if fl := f.Lookup("entrypoint"); fl.Changed {
		v := fl.Value.String()
		o.Entrypoint = &v
	}
	o.Image = f.Arg(0)
	hc, err := o.HostConfig()
	if err != nil {
		t.Fatal(err)
	}
	envFiles, err := o.ReadEnvFiles()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.Config(ocispec.ImageConfig{Cmd: []string{"true"}}, envFiles)
	if err != nil {
		t.Fatal(err)
	}
	c := &container.Container{ID: strings.Repeat("ef", 32)}
	record(&o, c, hc, cfg, []string{"/l/top", "/l/base"})
	src := volumeSource(t)
	if c.Mounts, _, err = mounts.Resolve(src.Volumes(), src.Store, hc, cfg); err != nil {
		t.Fatal(err)
	}
	at := spec.OCIPaths{Merged: "/c/merged", Etc: spec.EtcFiles{Hostname: "/c/hostname", Hosts: "/c/hosts", ResolvConf: "/c/resolv.conf"},
		Home: "/root", Init: "/bin/mini-docker"}
	if ownNetns(hc.NetworkMode) {
		at.Netns = "/run/netns/" + NetnsName(c.ID)
	}
	oci, err := spec.OCISpec(c, at)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(oci)
	s := planSpec(oci, hc)
	s.ID, s.Console = c.ID, o.TTY && !o.Detach
	steps := plan.Steps(&s.Spec)
	chain := plan.RenderChain(steps, s.Argv, func(tool string) string { return "/bin/" + tool })
	return rendered{oci: string(b), chain: chain.Argv, inside: plan.RenderInside(steps, s.Argv, "/bin/mini-docker-inside")}
}

// volumeSource is an engine on a fresh state root holding a container
// "src" with a bind mount, for --volumes-from.
func volumeSource(t *testing.T) *Engine {
	t.Helper()
	root := t.TempDir()
	e := &Engine{Root: root, Store: &container.Store{Root: root}}
	_, err := e.Store.Create("src", func(c *container.Container) {
		c.Mounts = []container.MountPoint{{Type: "bind", Source: root, Destination: "/shared", RW: true}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// chainFromInside renders the inside program's configuration back into
// the chain of tools: what mini-docker-inside does, step by step, in the
// tools' words. It knows nothing of the plan's steps.
func chainFromInside(in *container.Inside, id string) []string {
	join := []string{"/bin/cgroupctl", "exec", "--name", id, "--parent", CgroupParent, "--"}
	if in.Join != 0 {
		// docker exec: the group, the first process's namespaces and
		// root, then the same tail with exec's directory.
		return chainTail(in, append(join, "/bin/unshare", "join", strconv.Itoa(in.Join), "--"), in.Workdir)
	}
	var c []string
	if in.CgroupNS {
		c = append(c, join...)
	}
	c = append(c, "/bin/unshare", "--mount", "--uts", "--ipc", "--pid")
	if in.CgroupNS {
		c = append(c, "--cgroup")
	}
	if in.Userns {
		c = append(c, "--user", "--map-root-user")
	}
	if in.Netns != "" {
		c = append(c, "--net-path", in.Netns)
	}
	c = append(c, "--hostname", in.Hostname, "--")
	if !in.CgroupNS {
		c = append(c, join...)
	}
	if len(in.Rlimits) > 0 {
		c = append(c, "/bin/prlimit")
		for _, l := range in.Rlimits {
			c = append(c, fmt.Sprintf("--%s=%d:%d", strings.ToLower(strings.TrimPrefix(l.Type, "RLIMIT_")), l.Soft, l.Hard))
		}
		c = append(c, "--")
	}
	c = append(c, "/bin/chroot", "--pivot", "--docker")
	if in.Privileged {
		c = append(c, "--privileged")
	}
	var tmpfs []string
	for _, m := range in.Mounts {
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, "--tmpfs", m.Destination+":"+strings.Join(m.Options, ","))
			continue
		}
		var opts []string
		for _, o := range m.Options {
			if o != "rbind" {
				opts = append(opts, o)
			}
		}
		v := m.Source + ":" + m.Destination
		if len(opts) > 0 {
			v += ":" + strings.Join(opts, ",")
		}
		c = append(c, "--bind", v)
	}
	c = append(c, tmpfs...)
	for _, d := range in.Devices {
		c = append(c, "--device", d.Host+":"+d.Container)
	}
	if in.Shm != "" {
		c = append(c, "--shm", in.Shm)
	}
	if in.ReadOnly {
		c = append(c, "--read-only")
	}
	return chainTail(in, append(c, "--workdir", in.Workdir, in.Root, "--"), ".")
}

// chainTail is chainFromInside's steps after the pivot (or exec's join):
// the filter, the capabilities and user, __execin DIR.
func chainTail(in *container.Inside, c []string, dir string) []string {
	fd := 3
	if in.Seccomp != "unconfined" {
		c = append(c, "/proc/self/fd/3", "run", "--profile", in.Seccomp, "--caps", strings.Join(in.SeccompCaps, ","), "--")
		fd++
	}
	c = append(c, "/proc/self/fd/"+strconv.Itoa(fd), "run")
	if in.Privileged {
		c = append(c, "--privileged")
	} else {
		c = append(c, "--docker-default")
		for _, x := range in.CapAdd {
			c = append(c, "--cap-add", x)
		}
		for _, x := range in.CapDrop {
			c = append(c, "--cap-drop", x)
		}
	}
	if in.User != "" {
		c = append(c, "--user", in.User)
	}
	for _, g := range in.Groups {
		c = append(c, "--group-add", g)
	}
	if in.NoNewPrivs {
		c = append(c, "--no-new-privs")
	}
	c = append(c, "--", "/proc/self/fd/"+strconv.Itoa(fd+1), ExecInArg, dir)
	if in.Console {
		c = append(c, "--console-socket", strconv.Itoa(fd+2))
	}
	return append(append(c, "--"), in.Argv...)
}

// TestEveryRunFlagRendersTheSameBothWays: for every docker run flag,
// the printed chain of tools (--explain, --tool-chain) and the inside
// program's configuration (the default run) come from the same steps and
// say the same; and each flag changes the layer it belongs to, so the
// comparison is never between two default runs.
func TestEveryRunFlagRendersTheSameBothWays(t *testing.T) {
	base := renderRun(t, nil)
	for _, tc := range runFlagCases(t) {
		if tc.flag == "help" {
			continue
		}
		t.Run(tc.flag, func(t *testing.T) {
			r := renderRun(t, tc.args)
			if got := chainFromInside(r.inside, strings.Repeat("ef", 32)); !reflect.DeepEqual(got, r.chain) {
				t.Fatalf("the two renderings differ:\nchain:  %q\ninside: %q", r.chain, got)
			}
			chainChanged := !reflect.DeepEqual(r.chain, base.chain)
			ociChanged := r.oci != base.oci
			// The inside program's input changes exactly when the chain
			// does: a flag that reached only one rendering would pass
			// the comparison above unseen.
			if insideChanged := !reflect.DeepEqual(r.inside, base.inside); insideChanged != chainChanged {
				t.Errorf("%v: inside's input changed %v, the chain %v:\n%+v", tc.args, insideChanged, chainChanged, r.inside)
			}
			switch tc.layer {
			case inChain:
				if !chainChanged {
					t.Errorf("%v leaves the chain as it is:\n%q", tc.args, r.chain)
				}
			case inOCI:
				if chainChanged || !ociChanged {
					t.Errorf("%v: want only the OCI spec changed (chain changed %v, spec changed %v)", tc.args, chainChanged, ociChanged)
				}
			case inRecord:
				if chainChanged || ociChanged {
					t.Errorf("%v: want neither chain nor spec changed:\n%s\n%s", tc.args, r.oci, base.oci)
				}
			}
		})
	}
}

// TestEveryExecFlagRendersTheSameBothWays: docker exec's printed chain
// (--explain, exec --tool-chain) and mini-docker-inside's configuration
// (the default exec) come from the same steps and say the same, for
// exec's flags and the run flags exec inherits.
func TestEveryExecFlagRendersTheSameBothWays(t *testing.T) {
	id := strings.Repeat("ef", 32)
	cases := []struct {
		name string
		set  func(c *container.Container, o *ExecOptions)
	}{
		{"plain", func(c *container.Container, o *ExecOptions) {}},
		{"-u", func(c *container.Container, o *ExecOptions) { o.User = "1000:1000" }},
		{"-w", func(c *container.Container, o *ExecOptions) { o.Workdir = "/tmp" }},
		{"-t", func(c *container.Container, o *ExecOptions) { o.TTY = true }},
		{"-dt", func(c *container.Container, o *ExecOptions) { o.TTY, o.Detach = true, true }},
		{"run -u -w", func(c *container.Container, o *ExecOptions) { c.Config.User, c.Config.WorkingDir = "nobody", "/srv" }},
		{"run --privileged", func(c *container.Container, o *ExecOptions) { c.HostConfig.Privileged = true }},
		{"run --cap-add --cap-drop", func(c *container.Container, o *ExecOptions) {
			c.HostConfig.CapAdd, c.HostConfig.CapDrop = []string{"NET_ADMIN"}, []string{"CHOWN"}
		}},
		{"run seccomp=unconfined", func(c *container.Container, o *ExecOptions) { c.Runtime.Seccomp = "unconfined" }},
		{"run no-new-privileges", func(c *container.Container, o *ExecOptions) { c.Runtime.NoNewPrivs = true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &container.Container{ID: id}
			c.State.Pid, c.Runtime.Seccomp, c.Runtime.Caps = 42, "default", []string{"CHOWN", "KILL"}
			o := &ExecOptions{Argv: []string{"sh", "-c", "true"}}
			tc.set(c, o)
			steps := plan.ExecSteps(plan.ExecOf(c, o.User, o.Workdir, o.TTY && !o.Detach))
			chain := plan.RenderChain(steps, o.Argv, func(tool string) string { return "/bin/" + tool }).Argv
			if got := chainFromInside(plan.RenderInside(steps, o.Argv, "/bin/mini-docker-inside"), id); !reflect.DeepEqual(got, chain) {
				t.Fatalf("the two renderings differ:\nchain:  %q\ninside: %q", chain, got)
			}
		})
	}
}

// TestEveryRunFlagIsCovered: a new run flag needs its case above.
func TestEveryRunFlagIsCovered(t *testing.T) {
	have := map[string]bool{}
	for _, tc := range runFlagCases(t) {
		have[tc.flag] = true
	}
	var o spec.Options
	f, _ := spec.RunFlags(&o)
	f.VisitAll(func(fl *pflag.Flag) {
		if !have[fl.Name] {
			t.Errorf("run flag --%s has no case in runFlagCases", fl.Name)
		}
	})
}

// TestChainFromInsideReadsEveryField: the comparison of the two
// renderings sees every field of the inside program's input, so a step
// cannot change one the chain does not show. Program and the cgroup
// directories are the exceptions: the chain names the tools by path and
// the group by the container's ID.
func TestChainFromInsideReadsEveryField(t *testing.T) {
	id := strings.Repeat("ef", 32)
	base := renderRun(t, nil).inside
	before := chainFromInside(base, id)
	// Prestarted and Env are the launch's, not the plan's: a child
	// started before its plan gets the environment with it.
	notShown := map[string]bool{"Program": true, "CgroupV1": true, "CgroupV2": true, "Prestarted": true, "Env": true}
	v := reflect.ValueOf(base).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if notShown[name] {
			continue
		}
		in := *base
		f := reflect.ValueOf(&in).Elem().Field(i)
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int:
			f.SetInt(f.Int() + 7)
		case reflect.Slice:
			f.Set(reflect.Append(f, reflect.New(f.Type().Elem()).Elem()))
			if f.Type().Elem().Kind() == reflect.String {
				f.Index(f.Len() - 1).SetString("x")
			}
		default:
			t.Fatalf("field %s: kind %s has no case here", name, f.Kind())
		}
		if reflect.DeepEqual(chainFromInside(&in, id), before) {
			t.Errorf("chainFromInside ignores Inside.%s", name)
		}
	}
}
