package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mini-docker/mini-docker/container"
)

// ErrImageNotFound is returned by an ImageStore for an absent image.
var ErrImageNotFound = errors.New("no such image")

// PullFunc pulls ref into the store (runs the pull tool).
type PullFunc func(ref string) error

// Create checks the run flags, resolves the image (pulling it when
// needed, as --pull says) and records a new container in status
// "created". Errors are Docker's; a *UsageError is a bad flag.
func (e *Engine) Create(o *Options, pull PullFunc) (*container.Container, error) {
	if err := CheckEnv(o.Env); err != nil {
		return nil, err
	}
	limits, err := o.ParseLimits()
	if err != nil {
		return nil, err
	}
	binds, err := o.ParseVolumes()
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
	network := o.Network
	switch network {
	case "", "default":
		network = "bridge"
	case "bridge", "none", "host":
	default:
		return nil, fmt.Errorf("network %s not found", network)
	}
	if network != "bridge" && len(ports) > 0 {
		ports = nil // Docker ignores -p outside a bridge network
	}
	if o.Name != "" {
		if err := container.CheckName(strings.TrimPrefix(o.Name, "/")); err != nil {
			return nil, err
		}
	}
	envFiles, err := o.ReadEnvFiles()
	if err != nil {
		return nil, err
	}
	if o.Platform != "" && o.Platform != "linux/amd64" && o.Platform != "linux" {
		return nil, fmt.Errorf("image with reference %s was found but does not match the specified platform: wanted %s", o.Image, o.Platform)
	}
	t := time.Now()
	img, err := e.resolveImage(o.Image, o.Pull, pull)
	if err != nil {
		return nil, err
	}
	e.stage("pull check", t)
	entry, cmd, err := o.Argv(img.Config.Config)
	if err != nil {
		return nil, err
	}
	user := img.Config.Config.User
	if o.User != "" {
		user = o.User
	}
	workdir := img.Config.Config.WorkingDir
	if o.Workdir != "" {
		workdir = o.Workdir
	}
	if workdir != "" && !filepath.IsAbs(workdir) {
		return nil, fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path", workdir)
	}
	env := append([]string{}, img.Config.Config.Env...)
	for _, kv := range append(envFiles, o.Env...) {
		if kv = expandEnv(kv); kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range env {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				env[i], replaced = kv, true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	var layers []string
	for i := len(img.LayerDirs) - 1; i >= 0; i-- {
		layers = append(layers, img.LayerDirs[i])
	}
	portMap := map[string][]container.Port{}
	for _, p := range ports {
		key := strconv.Itoa(p.CtrPort) + "/" + p.Proto
		portMap[key] = append(portMap[key], container.Port{HostIP: p.HostIP, HostPort: strconv.Itoa(p.HostPort)})
	}
	var secOpts []string
	if sec.Seccomp != "default" {
		secOpts = append(secOpts, "seccomp="+sec.Seccomp)
	}
	if sec.NoNewPrivs {
		secOpts = append(secOpts, "no-new-privileges")
	}
	var bindStrs []string
	for _, b := range binds {
		s := b.Source + ":" + b.Target
		if b.ReadOnly {
			s += ":ro"
		}
		bindStrs = append(bindStrs, s)
	}
	fill := func(c *container.Container) {
		hostname := o.Hostname
		if hostname == "" {
			hostname = container.ShortID(c.ID)
		}
		if network == "host" && o.Hostname == "" {
			hostname, _ = osHostname()
		}
		c.Path = firstOf(entry, cmd)
		c.Args = restOf(entry, cmd)
		c.Image = img.ID
		c.LogPath = filepath.Join(e.Store.Dir(c.ID), c.ID+"-json.log")
		c.Config = container.Config{
			Hostname: hostname, User: user, Env: env, Cmd: cmd, Entrypoint: entry,
			Image: o.Image, WorkingDir: workdir, Tty: o.TTY, OpenStdin: o.Interactive,
			AttachStdin: o.Interactive && !o.Detach, AttachStdout: !o.Detach, AttachStderr: !o.Detach,
			StdinOnce: o.Interactive && !o.Detach, Labels: map[string]string{},
		}
		if len(c.Config.Env) == 0 {
			c.Config.Env = nil
		}
		var pidsLimit *int64
		if limits.PidsLimit != 0 {
			v := limits.PidsLimit
			pidsLimit = &v
		}
		var init *bool
		if o.Init {
			t := true
			init = &t
		}
		c.HostConfig = container.HostConfig{
			Binds: bindStrs, NetworkMode: network, PortBindings: portMap, AutoRemove: o.Rm,
			CapAdd: o.CapAdd, CapDrop: o.CapDrop, Privileged: o.Privileged, ReadonlyRootfs: o.ReadOnly,
			SecurityOpt: secOpts, Memory: limits.Memory, MemorySwap: limits.MemorySwap,
			NanoCpus: limits.NanoCPUs, CPUShares: limits.CPUShares, PidsLimit: pidsLimit, Init: init,
			ShmSize: 64 << 20,
		}
		c.GraphDriver = container.GraphDriver{Name: "overlay2", Data: map[string]string{"LowerDir": strings.Join(layers, ":")}}
		c.NetworkSettings = container.NetworkSettings{Ports: portMap, Networks: map[string]*container.EndpointSetting{}}
		c.Runtime.ImageRef = img.Ref
		c.Runtime.Userns = o.Userns
		c.Runtime.ToolChain = o.ToolChain
		c.Runtime.MonitorPid = osGetpid()
		c.Runtime.MonitorStart, _ = container.StartTime(osGetpid())
	}
	return e.Store.Create(o.Name, fill)
}

func firstOf(a, b []string) string {
	all := append(append([]string{}, a...), b...)
	if len(all) == 0 {
		return ""
	}
	return all[0]
}

func restOf(a, b []string) []string {
	all := append(append([]string{}, a...), b...)
	if len(all) <= 1 {
		return []string{}
	}
	return all[1:]
}

// ImageNotFoundError is Docker's "No such image" for --pull never.
type ImageNotFoundError struct{ Ref string }

func (e *ImageNotFoundError) Error() string { return "No such image: " + e.Ref }

// resolveImage finds ref in the store, pulling it first when it is
// missing (or always, with --pull always), as docker run does.
func (e *Engine) resolveImage(ref, policy string, pull PullFunc) (*Image, error) {
	if e.Images == nil {
		return nil, errors.New("no image store")
	}
	switch policy {
	case "", "missing", "always", "never":
	default:
		return nil, fmt.Errorf("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", policy)
	}
	if policy == "always" {
		if err := pull(familiar(ref)); err != nil {
			return nil, err
		}
		return e.Images.Lookup(ref)
	}
	img, err := e.Images.Lookup(ref)
	if err == nil {
		return img, nil
	}
	if !errors.Is(err, ErrImageNotFound) {
		return nil, err
	}
	if policy == "never" {
		return nil, &ImageNotFoundError{Ref: familiar(ref)}
	}
	// pull --implicit prints Docker's "Unable to find image ... locally".
	// With the tag spelled out, as docker run passes it (no "Using default tag").
	if err := pull(familiar(ref)); err != nil {
		return nil, err
	}
	return e.Images.Lookup(ref)
}

// familiar returns ref as Docker prints it: with its tag (":latest" added).
func familiar(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(ref, "@") {
		return ref + ":latest"
	}
	return ref
}
