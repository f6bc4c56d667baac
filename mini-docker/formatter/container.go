package formatter

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/networks"
)

// DefaultContainerTable is docker ps's table.
const DefaultContainerTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// ContainerHeader titles docker ps's columns.
var ContainerHeader = SubHeaderContext{
	"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
	"CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
	"Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
	"LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS", "Platform": "PLATFORM",
}

// ContainerContext is one row of docker ps.
type ContainerContext struct {
	C      *container.Container
	Trunc  bool
	SizeRw int64 // bytes in the upper layer (ps -s)
	SizeFs int64 // the upper layer plus the image's layers
}

// MarshalJSON is {{json .}}: every field below.
func (c *ContainerContext) MarshalJSON() ([]byte, error) { return MarshalJSON(c) }

// ID is the container's ID, 12 digits unless --no-trunc.
func (c *ContainerContext) ID() string {
	if c.Trunc {
		return container.ShortID(c.C.ID)
	}
	return c.C.ID
}

// Names is the container's name without Docker's leading slash.
func (c *ContainerContext) Names() string { return strings.TrimPrefix(c.C.Name, "/") }

// Image is the image as given to run.
func (c *ContainerContext) Image() string {
	if c.C.Config.Image == "" {
		return "<no image>"
	}
	return c.C.Config.Image
}

// Command is the quoted command line, cut at 20 characters with an
// ellipsis unless --no-trunc.
func (c *ContainerContext) Command() string {
	cmd := c.C.Path
	for _, a := range c.C.Args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'" // the daemon's own quoting, for display only
		}
		cmd += " " + a
	}
	if c.Trunc {
		cmd = Ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

// CreatedAt is the creation time, to the second, in local time.
func (c *ContainerContext) CreatedAt() string { return time.Unix(c.C.Created.Unix(), 0).String() }

// RunningFor is how long ago the container was created.
func (c *ContainerContext) RunningFor() string {
	return units.HumanDuration(time.Now().UTC().Sub(c.C.Created)) + " ago"
}

// Ports is docker ps's PORTS column: "0.0.0.0:8080->80/tcp", and
// "80/tcp" for an exposed port that is not published (networks.DisplayPorts).
func (c *ContainerContext) Ports() string {
	return networks.DisplayPorts(networks.PortSummaries(c.C))
}

// State is Docker's one-word state: created, running, paused, exited, dead.
func (c *ContainerContext) State() string { return string(c.C.State.Status) }

// Status is the state in Docker's words ("Up 5 minutes", "Exited (0) 2
// hours ago"), with the health check's verdict when it has one.
func (c *ContainerContext) Status() string { return Status(c.C) }

// Size is the upper layer's size and, with the image's, the virtual size.
func (c *ContainerContext) Size() string {
	srw := units.HumanSizeWithPrecision(float64(c.SizeRw), 3)
	if c.SizeFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", srw, units.HumanSizeWithPrecision(float64(c.SizeFs), 3))
	}
	return srw
}

// Labels is every label as k=v, sorted, comma-separated.
func (c *ContainerContext) Labels() string { return JoinLabels(c.C.Config.Labels) }

// Label is one label's value.
func (c *ContainerContext) Label(name string) string { return c.C.Config.Labels[name] }

// Mounts names the host sources of the container's bind mounts.
func (c *ContainerContext) Mounts() string {
	var out []string
	for _, b := range c.C.HostConfig.Binds {
		src, _, _ := strings.Cut(b, ":")
		if c.Trunc {
			src = Ellipsis(src, 15)
		}
		out = append(out, src)
	}
	return strings.Join(out, ",")
}

// LocalVolumes counts the container's volumes of the local driver.
func (c *ContainerContext) LocalVolumes() string {
	n := 0
	for _, m := range c.C.HostConfig.Mounts {
		if m.Type == "volume" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// Networks names the networks the container is attached to.
func (c *ContainerContext) Networks() string {
	if len(c.C.NetworkSettings.Networks) == 0 {
		return string(c.C.HostConfig.NetworkMode)
	}
	var out []string
	for k := range c.C.NetworkSettings.Networks {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Platform is the container's platform; docker ps prints null for a
// container whose image gave none, and mini-docker records none.
func (c *ContainerContext) Platform() *string { return nil }

// Status is docker ps's STATUS of a container.
func Status(ct *container.Container) string {
	s := ct.State
	ago := func(t time.Time) string { return units.HumanDuration(time.Now().UTC().Sub(t)) }
	switch {
	case s.Paused:
		return "Up " + ago(s.StartedAt) + " (Paused)"
	case s.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, ago(s.FinishedAt))
	case s.Running:
		up := "Up " + ago(s.StartedAt)
		if h := s.Health; h != nil && h.Status != "" {
			if h.Status == "starting" {
				return up + " (health: starting)"
			}
			return up + " (" + string(h.Status) + ")"
		}
		return up
	case s.Status == container.Created:
		return "Created"
	case s.Status == container.Dead:
		return "Dead"
	}
	return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, ago(s.FinishedAt))
}

// JoinLabels is labels as "k=v,k2=v2", sorted.
func JoinLabels(labels map[string]string) string {
	var out []string
	for k, v := range labels {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Ellipsis cuts s to n runes, the last one an ellipsis.
func Ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
