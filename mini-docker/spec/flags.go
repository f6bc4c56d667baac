// Package spec is the container's configuration in the field's two
// layers: docker run's flags parsed once into Docker's own Config and
// HostConfig (flags.go), and those converted once into the OCI runtime
// spec, what the kernel must be told (oci.go). The plan (package plan)
// is made from it; the engine records and runs it.
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package spec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/units"
	"mini-docker/mini-docker/container"
	"mini-docker/seccompctl/seccomp"
)

// Options are the flags of `mini-docker run`, with Docker's names.
type Options struct {
	Image       string
	Args        []string // the command after IMAGE
	Name        string
	Detach      bool
	Rm          bool
	Interactive bool
	TTY         bool
	Env         []string
	EnvFiles    []string
	Workdir     string
	User        string
	Hostname    string
	Entrypoint  *string // nil: the image's; "" clears it
	Volumes     []string
	Mounts      []mount.Mount // --mount, parsed as the flag is read
	Tmpfs       []string
	VolumesFrom []string
	Publish     []string
	PublishAll  bool   // -P: every exposed port on a free host port
	Network     string // bridge (default), none, host, NAME, container:NAME
	DNS         []string
	DNSSearch   []string
	DNSOptions  []string
	AddHost     []string // NAME:IP or NAME:host-gateway
	// NetworkAliases are more names of the container on its user network.
	NetworkAliases []string
	IP             string // --ip: its address on its user network
	MacAddress     string // --mac-address: eth0's hardware address
	Memory         string
	MemorySwap     string
	CPUs           string
	CPUShares      int64
	CpusetCpus     string
	PidsLimit      int64
	CapAdd         []string
	CapDrop        []string
	GroupAdd       []string
	Privileged     bool
	SecurityOpt    []string
	ReadOnly       bool
	Init           bool
	Pull           string // missing (default), always, never
	Platform       string
	Userns         bool   // --userns alone: a new user namespace
	UsernsMode     string // --userns=host: Docker's HostConfig.UsernsMode
	Explain        bool
	Timings        bool
	ToolChain      bool // run the inside steps as the separate tools, as --explain prints them

	Lifecycle // --label, --restart, --ulimit, --device, --health-cmd ... (runopts.go)
	Resources // --memory-reservation, --oom-kill-disable, --shm-size ... (resources.go)
}

// RunFlags defines docker run's flags, each setting its field of o. It is a plain pflag set, not
// cli.NewFlags, because docker run's -h is --hostname, not --help.
func RunFlags(o *Options) (*pflag.FlagSet, *bool) {
	f := pflag.NewFlagSet("mini-docker run", pflag.ContinueOnError)
	f.SetInterspersed(false)
	f.SetOutput(io.Discard)
	help := f.Bool("help", false, "show this help")
	f.BoolVar(&o.Explain, "explain", false, "print the chain as the toolkit's commands (to stderr) while doing it")
	f.BoolVar(&o.Timings, "timings", false, "print how long each stage took (to stderr)")
	f.BoolVar(&o.ToolChain, "tool-chain", false, "run the steps inside the namespaces as the separate tools --explain prints (unshare ... capctl, one program each), not in one process")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run in the background and print the container ID")
	f.StringVar(&o.Name, "name", "", "assign a name to the container")
	f.BoolVar(&o.Rm, "rm", false, "remove the container when it exits")
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep STDIN open")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a pseudo-TTY")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set environment variables (KEY=VALUE, or KEY to copy ours)")
	f.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container host name")
	f.String("entrypoint", "", "overwrite the default ENTRYPOINT of the image")
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount a volume: NAME:CONTAINER[:MODE], HOST:CONTAINER[:MODE] or CONTAINER (anonymous); MODE: ro, rw, nocopy, a propagation")
	f.Var(mountFlag{&o.Mounts}, "mount", "attach a filesystem mount to the container: type=bind|volume|tmpfs,source=...,target=...[,readonly][,bind-propagation=...][,volume-nocopy][,tmpfs-size=...][,tmpfs-mode=...]")
	f.StringArrayVar(&o.Tmpfs, "tmpfs", nil, "mount a tmpfs directory: CONTAINER[:OPTIONS] (size=64m,mode=1777,...)")
	f.StringArrayVar(&o.VolumesFrom, "volumes-from", nil, "mount volumes from the specified container(s): CONTAINER[:ro|rw]")
	f.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish a container's port: [IP:][HOSTPORT:]PORT[/udp] (userland forwarder; no HOSTPORT: a free one)")
	f.BoolVarP(&o.PublishAll, "publish-all", "P", false, "publish every exposed port (the image's EXPOSE) on a free host port")
	f.StringVar(&o.Network, "network", "bridge", "network: bridge, none, host, a network's name (mini-docker network create), or container:NAME (join that container's network namespace)")
	f.StringArrayVar(&o.DNS, "dns", nil, "set custom DNS servers (/etc/resolv.conf's nameserver lines)")
	f.StringArrayVar(&o.DNSSearch, "dns-search", nil, "set custom DNS search domains (\".\" for none)")
	f.StringArrayVar(&o.DNSOptions, "dns-option", nil, "set DNS options (/etc/resolv.conf's options line, e.g. ndots:2)")
	f.StringArrayVar(&o.NetworkAliases, "network-alias", nil, "add a network-scoped alias for the container (a user-defined network's /etc/hosts)")
	f.StringVar(&o.IP, "ip", "", "IPv4 address (e.g. 172.30.100.104) on a user network created with --subnet")
	f.StringVar(&o.MacAddress, "mac-address", "", "container MAC address (e.g. 92:d0:c6:0a:29:33; default: 02:42 and the IPv4 address's bytes)")
	f.StringArrayVar(&o.AddHost, "add-host", nil, "add a custom host-to-IP mapping to /etc/hosts: NAME:IP, or NAME:host-gateway for the host")
	f.StringVarP(&o.Memory, "memory", "m", "", "memory limit")
	f.StringVar(&o.MemorySwap, "memory-swap", "", "memory plus swap limit, -1 for unlimited swap")
	f.StringVar(&o.CPUs, "cpus", "", "number of CPUs")
	f.Int64VarP(&o.CPUShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.StringVar(&o.CpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	f.Int64Var(&o.PidsLimit, "pids-limit", 0, "tune container pids limit (-1 for unlimited)")
	f.StringSliceVar(&o.CapAdd, "cap-add", nil, "add Linux capabilities")
	f.StringSliceVar(&o.CapDrop, "cap-drop", nil, "drop Linux capabilities")
	f.StringArrayVar(&o.GroupAdd, "group-add", nil, "add additional groups to join (names from the image's /etc/group, or numbers)")
	f.BoolVar(&o.Privileged, "privileged", false, "give extended privileges to this container")
	f.StringArrayVar(&o.SecurityOpt, "security-opt", nil, "security options: seccomp=PROFILE|unconfined, no-new-privileges")
	f.BoolVar(&o.ReadOnly, "read-only", false, "mount the container's root filesystem as read only")
	f.BoolVar(&o.Init, "init", false, "run an init inside the container that forwards signals and reaps processes")
	f.StringVar(&o.Pull, "pull", "missing", "pull image before running: always, missing or never")
	f.StringVar(&o.Platform, "platform", "", "platform (only linux/amd64 here)")
	f.Var(usernsMode{&o.Userns, &o.UsernsMode}, "userns", "user namespace: host (Docker's: none), or --userns alone for a new one mapping root inside to us")
	f.Lookup("userns").NoOptDefVal = "new"
	lifecycleFlags(f, &o.Lifecycle)
	resourceFlags(f, &o.Resources)
	return f, help
}

// usernsMode is --userns: Docker's string flag, whose one value without
// a daemon's remapping is "host" (no user namespace: what mini-docker
// does by default anyway), and mini-docker's --userns alone, a new user
// namespace. Anything else is Docker's "invalid USER mode".
type usernsMode struct {
	new  *bool
	mode *string
}

func (u usernsMode) String() string {
	if u.new != nil && *u.new {
		return "new"
	}
	if u.mode != nil {
		return *u.mode
	}
	return ""
}

func (u usernsMode) Set(v string) error {
	switch v {
	case "new":
		*u.new, *u.mode = true, ""
	case "host", "":
		*u.new, *u.mode = false, v
	default:
		return errors.New("invalid USER mode")
	}
	return nil
}

func (usernsMode) Type() string { return "string" }

// HostConfig parses the flags that say what the host gives the
// container: mounts, network, ports, limits, capabilities, security.
func (o *Options) HostConfig() (*container.HostConfig, error) {
	if err := CheckEnv(o.Env); err != nil {
		return nil, err
	}
	limits, err := o.ParseLimits()
	if err != nil {
		return nil, err
	}
	mf, err := o.ParseMounts()
	if err != nil {
		return nil, err
	}
	ports, err := o.ParsePublish()
	if err != nil {
		return nil, err
	}
	sec, err := o.ParseSecurity()
	if err != nil {
		return nil, err
	}
	mode := container.NetworkMode(o.Network)
	switch mode {
	case "", "default":
		mode = container.NetworkBridge
	case container.NetworkBridge, container.NetworkNone, container.NetworkHost:
	default:
		if mode.IsContainer() {
			break // the container is looked up when this one starts
		}
		// A user-defined network: the engine looks it up.
		if !mode.IsUserDefined() || strings.ContainsAny(o.Network, "/ \t\n") {
			return nil, fmt.Errorf("network %s not found", o.Network)
		}
	}
	dns, search, err := o.parseNames()
	if err != nil {
		return nil, err
	}
	if err := o.checkJoin(mode); err != nil {
		return nil, err
	}
	if err := o.checkAliases(mode); err != nil {
		return nil, err
	}
	if err := o.checkEndpoint(mode); err != nil {
		return nil, err
	}
	if mode == container.NetworkNone || mode == container.NetworkHost {
		ports = network.PortMap{} // Docker ignores -p outside a bridge network
	}
	hc := &container.HostConfig{
		Binds: mf.Binds, Mounts: mf.Mounts, Tmpfs: mf.Tmpfs, VolumesFrom: o.VolumesFrom, NetworkMode: mode, PortBindings: ports,
		PublishAllPorts: o.PublishAll, AutoRemove: o.Rm,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, GroupAdd: o.GroupAdd, Privileged: o.Privileged, ReadonlyRootfs: o.ReadOnly,
		SecurityOpt: SecurityOpts(sec), UsernsMode: mobycontainer.UsernsMode(o.UsernsMode),
	}
	hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts = dns, search, o.DNSOptions, o.AddHost
	hc.Memory, hc.MemorySwap, hc.NanoCPUs, hc.CPUShares = limits.Memory, limits.MemorySwap, limits.NanoCPUs, limits.CPUShares
	if limits.PidsLimit != 0 {
		hc.PidsLimit = &limits.PidsLimit
	}
	if o.CpusetCpus != "" {
		if hc.CpusetCpus, err = cgroup.ParseCpuset(o.CpusetCpus); err != nil {
			return nil, err
		}
	}
	if o.Init {
		hc.Init = &o.Init
	}
	if err := o.Resources.hostConfig(hc, CgroupV2()); err != nil {
		return nil, err
	}
	return hc, o.MonitorOpts.hostConfig(hc)
}

// checkJoin refuses, with --network container:NAME, the flags that
// set what the joined container owns, in Docker's words (moby's
// runconfig.validateNetContainerMode).
func (o *Options) checkJoin(mode container.NetworkMode) error {
	if !mode.IsContainer() {
		return nil
	}
	switch {
	case mode.ConnectedContainer() == "":
		//lint:ignore ST1005 Docker's own words, as docker prints them
		return fmt.Errorf("Invalid network mode: invalid container format container:<name|id>")
	case o.Hostname != "":
		return fmt.Errorf("conflicting options: hostname and the network mode")
	case len(o.DNS) > 0:
		return fmt.Errorf("conflicting options: dns and the network mode")
	case len(o.AddHost) > 0:
		return fmt.Errorf("conflicting options: custom host-to-IP mapping and the network mode")
	case len(o.Publish) > 0 || o.PublishAll:
		return fmt.Errorf("conflicting options: port publishing and the container type network mode")
	}
	return nil
}

// checkAliases refuses --network-alias off a user-defined network, as
// Docker does, and an alias /etc/hosts cannot carry.
func (o *Options) checkAliases(mode container.NetworkMode) error {
	if len(o.NetworkAliases) > 0 && !mode.IsUserDefined() {
		return fmt.Errorf("network-scoped alias is supported only for containers in user defined networks")
	}
	for _, a := range o.NetworkAliases {
		if err := CheckAlias(a); err != nil {
			return err
		}
	}
	return nil
}

// CheckAlias checks a network alias (run's --network-alias, network
// connect's --alias): a name /etc/hosts can carry.
func CheckAlias(a string) error {
	if a == "" || strings.ContainsAny(a, " \t\n#") {
		return fmt.Errorf("invalid alias %q", a)
	}
	return nil
}

// Limits are the parsed resource flags.
type Limits struct {
	Memory, MemorySwap, NanoCPUs, CPUShares, PidsLimit int64
}

// Publish is one -p [IP:]HOSTPORT:CTRPORT[/PROTO].
type Publish struct {
	HostIP            string
	HostPort, CtrPort int
	Proto             string
}

// Security is what --privileged and --security-opt ask for.
type Security struct {
	Seccomp    string // "default", "unconfined" or a profile file
	NoNewPrivs bool
}

// CapSpec is what capctl applies of the run flags: the capabilities, and
// --group-add's groups (names capctl looks up in the container's
// /etc/group after the pivot, as Docker does in the container's root).
type CapSpec struct {
	Privileged      bool
	CapAdd, CapDrop []string
	GroupAdd        []string
}

// CapsOf is hc's CapSpec.
func CapsOf(hc *container.HostConfig) CapSpec {
	return CapSpec{Privileged: hc.Privileged, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, GroupAdd: hc.GroupAdd}
}

// UsageError is a bad flag value: Docker prints it with a pointer to
// --help and exits 125.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func flagErr(val, flag, format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf("invalid argument %q for %q flag: %s", val, flag, fmt.Sprintf(format, args...))}
}

// CheckEnv refuses a -e without a variable name ("", "=x"), with
// Docker's CLI's words (opts.ValidateEnv): the kernel would pass "=x"
// on to the command, whose environment then holds a nameless entry.
func CheckEnv(env []string) error {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return flagErr(kv, "-e, --env", "invalid environment variable: %s", kv)
		}
	}
	return nil
}

// ParseLimits checks the resource flags the way Docker's CLI does.
func (o *Options) ParseLimits() (Limits, error) {
	var l Limits
	var err error
	if o.Memory != "" {
		if l.Memory, err = units.RAMInBytes(o.Memory); err != nil {
			return l, flagErr(o.Memory, "-m, --memory", "%v", err)
		}
		if l.Memory != 0 && l.Memory < 6<<20 { // negative: a size past 8 EiB wrapped, as in Docker's go-units
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return l, fmt.Errorf("Minimum memory limit allowed is 6MB")
		}
	}
	if o.MemorySwap != "" {
		if o.MemorySwap == "-1" {
			l.MemorySwap = -1
		} else if l.MemorySwap, err = units.RAMInBytes(o.MemorySwap); err != nil {
			return l, flagErr(o.MemorySwap, "--memory-swap", "%v", err)
		}
		if l.MemorySwap > 0 && l.Memory == 0 {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return l, fmt.Errorf("You should always set the Memory limit when using Memoryswap limit, see usage")
		}
		if l.MemorySwap > 0 && l.MemorySwap < l.Memory {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return l, fmt.Errorf("Minimum memoryswap limit should be larger than memory limit, see usage")
		}
	}
	if o.CPUs != "" {
		if l.NanoCPUs, err = units.NanoCPUs(o.CPUs); err != nil {
			return l, flagErr(o.CPUs, "--cpus", "%v", err)
		}
		if err := units.CheckNanoCPUs(l.NanoCPUs, runtime.NumCPU()); err != nil {
			return l, err
		}
	}
	l.CPUShares = o.CPUShares
	l.PidsLimit = o.PidsLimit
	return l, nil
}

// ParsePublish checks -p [IP:][HOSTPORT:]CTRPORT[/tcp|udp] and returns
// the bindings as Docker records them (HostConfig.PortBindings).
func (o *Options) ParsePublish() (network.PortMap, error) {
	ps := network.PortMap{}
	for _, s := range o.Publish {
		p := Publish{Proto: "tcp", HostIP: "0.0.0.0"}
		spec := s
		if i := strings.LastIndex(spec, "/"); i >= 0 {
			p.Proto = spec[i+1:]
			spec = spec[:i]
			if p.Proto != "tcp" && p.Proto != "udp" {
				return nil, fmt.Errorf("invalid proto: %s", p.Proto)
			}
		}
		parts := strings.Split(spec, ":")
		var host, ctr string
		switch len(parts) {
		case 1:
			ctr = parts[0]
		case 2:
			host, ctr = parts[0], parts[1]
		case 3:
			p.HostIP, host, ctr = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("invalid port format for --publish: %s", s)
		}
		var err error
		if p.CtrPort, err = strconv.Atoi(ctr); err != nil || p.CtrPort < 1 || p.CtrPort > 65535 {
			return nil, fmt.Errorf("invalid containerPort: %s", ctr)
		}
		if host != "" { // none: a free port, picked when the container starts
			if p.HostPort, err = strconv.Atoi(host); err != nil || p.HostPort < 1 || p.HostPort > 65535 {
				return nil, fmt.Errorf("invalid hostPort: %s", host)
			}
		}
		port, _ := network.PortFrom(uint16(p.CtrPort), network.IPProtocol(p.Proto))
		ip, err := netip.ParseAddr(p.HostIP)
		if err != nil {
			return nil, fmt.Errorf("invalid IP address: %s", p.HostIP)
		}
		hostPort := ""
		if p.HostPort != 0 {
			hostPort = strconv.Itoa(p.HostPort)
		}
		ps[port] = append(ps[port], network.PortBinding{HostIP: ip, HostPort: hostPort})
	}
	return ps, nil
}

// ParseSecurity reads --security-opt, and checks that a seccomp
// profile file is there and parses (a regular file, bounded), as
// Docker's CLI does before it creates anything.
func (o *Options) ParseSecurity() (Security, error) {
	s, err := ParseSecurityOpt(o.SecurityOpt, o.Privileged)
	if err == nil && s.Seccomp != "unconfined" && s.Seccomp != "default" {
		var re *seccomp.ReadError
		if _, serr := seccomp.LoadProfile(s.Seccomp); errors.As(serr, &re) {
			return s, fmt.Errorf("opening seccomp profile (%s) failed: %w", s.Seccomp, re.Err)
		} else if serr != nil {
			return s, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", s.Seccomp, serr)
		}
	}
	return s, err
}

// ParseSecurityOpt reads --security-opt values, the flag's and the
// recorded HostConfig.SecurityOpt (Opts' form): seccomp=PROFILE (or the
// old seccomp:PROFILE), no-new-privileges[=true|false]; apparmor and
// label are accepted and ignored, as Docker does without an LSM. The
// profile starts as unconfined with --privileged (a seccomp= given as
// well is recorded, and the start runs unconfined all the same).
func ParseSecurityOpt(opts []string, privileged bool) (Security, error) {
	s := Security{Seccomp: "default"}
	if privileged {
		s.Seccomp = "unconfined"
	}
	for _, opt := range opts {
		k, v, _ := strings.Cut(opt, "=")
		if k2, v2, ok := strings.Cut(opt, ":"); ok && !strings.Contains(opt, "=") {
			k, v = k2, v2 // the old colon form, seccomp:unconfined
		}
		switch k {
		case "seccomp":
			if v == "" {
				return s, fmt.Errorf("invalid --security-opt: %q", opt)
			}
			s.Seccomp = v
		case "no-new-privileges":
			if s.NoNewPrivs = true; v != "" { // Docker's daemon: strconv.ParseBool, else its "2" error
				var err error
				if s.NoNewPrivs, err = strconv.ParseBool(v); err != nil {
					return s, fmt.Errorf("invalid --security-opt 2: %q", opt)
				}
			}
		case "apparmor", "label":
		default:
			return s, fmt.Errorf("invalid --security-opt: %q", opt)
		}
	}
	return s, nil
}

// SecurityOpts is s as HostConfig.SecurityOpt records it (nothing for
// the defaults), read back by ParseSecurityOpt.
func SecurityOpts(s Security) []string {
	var opts []string
	if s.Seccomp != "default" {
		opts = append(opts, "seccomp="+s.Seccomp)
	}
	if s.NoNewPrivs {
		opts = append(opts, "no-new-privileges")
	}
	return opts
}

// ReadEnvFiles reads --env-file files: KEY=VALUE lines, # comments, and
// a bare KEY taking its value from mini-docker's own environment. A
// line without a name, or a name with blanks, is refused as Docker does.
func (o *Options) ReadEnvFiles() ([]string, error) {
	var env []string
	for _, path := range o.EnvFiles {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimLeft(sc.Text(), " \t")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, _, _ := strings.Cut(line, "=")
			switch {
			case k == "":
				f.Close()
				return nil, fmt.Errorf("invalid env file (%s): no variable name on line '%s'", path, line)
			case strings.ContainsAny(k, " \t\n\v\f\r"):
				f.Close()
				return nil, fmt.Errorf("invalid env file (%s): variable '%s' contains whitespaces", path, k)
			}
			env = append(env, ExpandEnv(line))
		}
		err = sc.Err() // a line over 64 KiB (or /dev/zero) stops the scan
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("invalid env file (%s): %w", path, err)
		}
	}
	return env, nil
}

// ExpandEnv turns a bare "KEY" into KEY=value from our environment, as
// docker run -e KEY does (and drops it when unset).
func ExpandEnv(kv string) string {
	if strings.Contains(kv, "=") {
		return kv
	}
	if v, ok := os.LookupEnv(kv); ok {
		return kv + "=" + v
	}
	return ""
}

// Argv is the container's command: Entrypoint then Cmd, with the
// flags' overrides applied as Docker does (a new --entrypoint also drops
// the image's Cmd).
func (o *Options) Argv(img ocispec.ImageConfig) ([]string, []string, error) {
	entry := img.Entrypoint
	cmd := img.Cmd
	if o.Entrypoint != nil {
		entry = nil
		if *o.Entrypoint != "" {
			entry = []string{*o.Entrypoint}
		}
		cmd = nil
	}
	if len(o.Args) > 0 {
		cmd = o.Args
	}
	if len(entry)+len(cmd) == 0 {
		return nil, nil, fmt.Errorf("no command specified")
	}
	return entry, cmd, nil
}

// ContainerEnv is the environment Docker gives the command: PATH,
// HOSTNAME, TERM with -t, then the image's Env and the -e/--env-file
// values (later ones win), then HOME when nothing set it.
func ContainerEnv(hostname string, tty bool, imageEnv, userEnv []string, home string) []string {
	env := []string{"PATH=" + DefaultPath, "HOSTNAME=" + hostname}
	if tty {
		env = append(env, "TERM=xterm")
	}
	set := func(kv string) {
		if kv == "" {
			return
		}
		k, _, _ := strings.Cut(kv, "=")
		for i, e := range env {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				env[i] = kv
				return
			}
		}
		env = append(env, kv)
	}
	for _, kv := range imageEnv {
		set(kv)
	}
	for _, kv := range userEnv {
		set(ExpandEnv(kv))
	}
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	return append(env, "HOME="+home)
}

// DefaultPath is the PATH Docker gives a container.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Config is the container's Config: the image's, with the flags'
// command, user, working directory and environment over it.
func (o *Options) Config(img ocispec.ImageConfig, envFiles []string) (*container.Config, error) {
	entry, cmd, err := o.Argv(img)
	if err != nil {
		return nil, err
	}
	c := &container.Config{Hostname: o.Hostname, User: img.User, WorkingDir: img.WorkingDir,
		Env: append([]string{}, img.Env...), Cmd: cmd, Entrypoint: entry, Volumes: maps.Clone(img.Volumes),
		Image: o.Image, Tty: o.TTY, OpenStdin: o.Interactive,
		AttachStdin: o.Interactive && !o.Detach, AttachStdout: !o.Detach, AttachStderr: !o.Detach,
		StdinOnce: o.Interactive && !o.Detach, Labels: map[string]string{},
	}
	for p := range img.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			if c.ExposedPorts == nil {
				c.ExposedPorts = network.PortSet{}
			}
			c.ExposedPorts[port] = struct{}{}
		}
	}
	for _, v := range o.AnonymousVolumes() {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[v] = struct{}{}
	}
	if o.User != "" {
		c.User = o.User
	}
	if o.Workdir != "" {
		c.WorkingDir = o.Workdir
	}
	if c.WorkingDir != "" && !filepath.IsAbs(c.WorkingDir) {
		return nil, fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path", c.WorkingDir)
	}
	for _, kv := range append(envFiles, o.Env...) {
		if kv = ExpandEnv(kv); kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range c.Env {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				c.Env[i], replaced = kv, true
			}
		}
		if !replaced {
			c.Env = append(c.Env, kv)
		}
	}
	if len(c.Env) == 0 {
		c.Env = nil
	}
	if c.StopSignal == "" {
		c.StopSignal = img.StopSignal
	}
	if err := o.Lifecycle.config(c, img.Labels); err != nil {
		return nil, err
	}
	return c, nil
}
