package networks

import (
	"errors"
	"fmt"
	"os"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
)

// --network container:NAME: the container joins another's network
// namespace instead of getting one of its own, as the containers of a
// Kubernetes pod share their pod's. It sees the same interfaces, the
// same addresses and the same ports (127.0.0.1 reaches the other's
// servers), and Docker gives it the other's hostname and /etc files too:
// both containers bind-mount the same hosts, hostname and resolv.conf.

// ErrJoinOwn is Docker's refusal of a container joining itself.
var ErrJoinOwn = errors.New("cannot join own network")

// JoinNetns points c at the network namespace of the container its
// network mode names, which must be running: c takes that container's
// namespace (NetworkSettings.SandboxKey), hostname and /etc files. The
// chain's unshare then joins the namespace (--net-path) rather than
// making one.
func JoinNetns(cs *container.Store, c *container.Container, ex *explain.Printer) error {
	ref := c.HostConfig.NetworkMode.ConnectedContainer()
	t, err := cs.Find(ref)
	if err != nil {
		return err
	}
	if t.ID == c.ID {
		return ErrJoinOwn
	}
	if !t.State.Running {
		return fmt.Errorf("cannot join network of a non running container: %s", t.ID)
	}
	if key := t.NetworkSettings.SandboxKey; key != "" {
		if _, err := os.Stat(key); err != nil {
			return fmt.Errorf("cannot join network of container %s: %w", t.ID, err)
		}
	}
	ex.Note("--network container:%s: join its network namespace %s, with its hostname and /etc files", ref, orHost(t.NetworkSettings.SandboxKey))
	c.Config.Hostname, c.Config.Domainname = t.Config.Hostname, t.Config.Domainname
	c.HostnamePath, c.HostsPath, c.ResolvConfPath = t.HostnamePath, t.HostsPath, t.ResolvConfPath
	c.NetworkSettings.SandboxKey = t.NetworkSettings.SandboxKey
	c.NetworkSettings.Networks = map[string]*container.EndpointSetting{}
	return nil
}

func orHost(key string) string {
	if key == "" {
		return "(the host's)"
	}
	return key
}
