package spec

import (
	"strings"

	"github.com/spf13/pflag"

	"mini-docker/mini-docker/container"
)

// Lifecycle are the run flags about the container's life and metadata
// rather than its isolation: labels, restart policy, stop signal and
// timeout, health check, resource limits the kernel applies per process
// (ulimits) or per group (reservation, OOM killer), devices, /dev/shm.
type Lifecycle struct {
	Labels []string
}

func lifecycleFlags(f *pflag.FlagSet, l *Lifecycle) {
	f.StringArrayVarP(&l.Labels, "label", "l", nil, "set meta data on a container (KEY=VALUE or KEY)")
}

// config records the flags that belong to Config: the labels, over
// the image's own (as Docker merges them).
func (l *Lifecycle) config(c *container.Config, imageLabels map[string]string) error {
	for k, v := range imageLabels {
		c.Labels[k] = v
	}
	for _, kv := range l.Labels {
		k, v, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(k) == "" {
			return flagErr(kv, "-l, --label", "invalid label '%s': empty name", kv)
		}
		c.Labels[k] = v
	}
	return nil
}
