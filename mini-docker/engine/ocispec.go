package engine

import (
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/imagefile"
	"mini-docker/mini-docker/spec"
)

// The host's side of the OCI spec (package spec converts the recorded
// Config and HostConfig): where the root, the /etc files, the network
// namespace and the cgroup are on this host.

// ociPaths are c's host-side places: those of its state folder, its
// network namespace, and the host's cgroup mode.
func (e *Engine) ociPaths(c *container.Container) spec.OCIPaths {
	dir := e.Store.Dir(c.ID)
	_, _, merged := graphDirs(dir)
	at := spec.OCIPaths{CgroupsPath: CgroupParent + "/" + c.ID, Merged: merged, CgroupNS: spec.CgroupV2(),
		Etc:  spec.EtcFiles{Hostname: filepath.Join(dir, "hostname"), Hosts: filepath.Join(dir, "hosts"), ResolvConf: filepath.Join(dir, "resolv.conf")},
		Home: homeInLayers(c.LowerDirs(), c.Config.User)}
	if ownNetns(c.HostConfig.NetworkMode) {
		at.Netns = "/run/netns/" + NetnsName(c.ID)
	}
	if c.HostConfig.NetworkMode.IsContainer() && c.HostsPath != "" {
		at.Netns = c.NetworkSettings.SandboxKey
		at.Etc = spec.EtcFiles{Hostname: c.HostnamePath, Hosts: c.HostsPath, ResolvConf: c.ResolvConfPath}
	}
	if c.HostConfig.Init != nil && *c.HostConfig.Init {
		at.Init = e.self()
	}
	return at
}

// ownNetns reports whether mode gives the container a network namespace
// of its own, named so that the host steps can wire it (bridge, a user
// network, none).
func ownNetns(mode container.NetworkMode) bool {
	return onBridge(mode) || mode == container.NetworkNone
}

// OCISpec is c's OCI runtime spec on this host.
func (e *Engine) OCISpec(c *container.Container) (*specs.Spec, error) {
	return spec.OCISpec(c, e.ociPaths(c))
}

// homeInLayers finds user's home in the image's /etc/passwd, reading the
// layers directly (top-most first) since the root is not mounted yet.
func homeInLayers(layers []string, user string) string {
	for _, l := range layers {
		if _, err := os.Lstat(filepath.Join(l, "etc", "passwd")); err == nil {
			return imagefile.Home(l, user)
		}
	}
	return imagefile.Home("/nonexistent", user)
}
