package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/initlayer"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/mounts"
)

// ErrImageNotFound is returned by an ImageStore for an absent image.
var ErrImageNotFound = errors.New("no such image")

// PullFunc pulls ref into the store (runs the pull tool).
type PullFunc func(ref string) error

// Create checks the run flags, resolves the image (pulling it when
// needed, as --pull says) and records a new container in status
// "created": the flags parsed once into Docker's two layers,
// Config and HostConfig, which every later stage reads (ocispec.go turns
// them into the OCI runtime spec). Errors are Docker's; a *UsageError is
// a bad flag.
func (e *Engine) Create(o *spec.Options, pull PullFunc) (*container.Container, error) {
	hc, err := o.HostConfig()
	if err != nil {
		return nil, err
	}
	if hc.NetworkMode.IsUserDefined() {
		n, err := e.networks().Find(hc.NetworkMode.NetworkName())
		if err != nil {
			return nil, err
		}
		if ip, _ := spec.ParseEndpointIP(o.IP); ip.IsValid() { // checked by HostConfig
			if err := e.networks().CheckIP(n, ip); err != nil {
				return nil, err
			}
		}
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
	cfg, err := o.Config(img.Config.Config, envFiles)
	if err != nil {
		return nil, err
	}
	cfg.Healthcheck = spec.MergeHealthcheck(cfg.Healthcheck, img.Healthcheck)
	mps, undo, err := mounts.Resolve(e.Volumes(), e.Store, hc, cfg)
	if err != nil {
		return nil, err
	}
	var layers []string // overlayfs's order, top-most first, fixed here once
	for i := len(img.LayerDirs) - 1; i >= 0; i-- {
		layers = append(layers, img.LayerDirs[i])
	}
	fill := func(c *container.Container) {
		if e.NextID != "" {
			c.ID = e.NextID // its cgroup is made (Prestarted)
		}
		// Docker's init layer sits on the image, under the upper layer:
		// one for all containers (package initlayer).
		record(o, c, hc, cfg, append([]string{initlayer.Shared(e.Root)}, layers...))
		c.Mounts = mps
		c.Image = img.ID
		c.LogPath = filepath.Join(e.Store.Dir(c.ID), c.ID+"-json.log")
		c.Runtime.ImageRef = img.Ref
		c.Runtime.MonitorPid = os.Getpid()
		c.Runtime.MonitorStart, _ = container.StartTime(os.Getpid())
	}
	c, err := e.Store.Create(o.Name, fill)
	if err != nil {
		undo()
	} else {
		e.event("create", c, nil)
	}
	return c, err
}

// record sets the new container c from the parsed flags, the image's
// layers (top-most first) and c's ID.
func record(o *spec.Options, c *container.Container, hc *container.HostConfig, cfg *container.Config, layers []string) {
	c.Config = *cfg
	if c.Config.Hostname == "" {
		c.Config.Hostname = container.ShortID(c.ID)
	}
	if hc.NetworkMode == container.NetworkHost && o.Hostname == "" {
		c.Config.Hostname, _ = os.Hostname()
	}
	c.HostConfig = *hc
	c.Path, c.Args = pathArgs(cfg.Entrypoint, cfg.Cmd)
	c.GraphDriver = container.GraphDriver{Name: "overlay2", Data: map[string]string{"LowerDir": strings.Join(layers, ":")}}
	c.NetworkSettings = container.NetworkSettings{Ports: hc.PortBindings, Networks: map[string]*container.EndpointSetting{}}
	if onBridge(hc.NetworkMode) {
		// The endpoint on its network, as Docker records it at create: a
		// start wires the network only while it is there (network
		// disconnect takes it away, connect gives it back).
		ep := &container.EndpointSetting{Aliases: o.NetworkAliases}
		if ip, _ := spec.ParseEndpointIP(o.IP); ip.IsValid() { // on a user network (HostConfig checked)
			ep.IPAMConfig = &mobynet.EndpointIPAMConfig{IPv4Address: ip}
		}
		c.NetworkSettings.Networks[hc.NetworkMode.NetworkName()] = ep
	}
	if mac, err := spec.ParseMAC(o.MacAddress); err == nil {
		c.Runtime.MacAddress = mac.String()
	}
	c.Runtime.Userns = o.Userns
	c.Runtime.ToolChain = o.ToolChain
}

// pathArgs splits the command that entrypoint and cmd make into Docker's
// Path and Args.
func pathArgs(entrypoint, cmd []string) (string, []string) {
	all := append(append([]string{}, entrypoint...), cmd...)
	if len(all) == 0 {
		return "", []string{}
	}
	return all[0], all[1:]
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
