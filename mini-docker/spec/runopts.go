package spec

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"mini-docker/mini-docker/container"
)

// Lifecycle are the run flags about the container's life and metadata
// rather than its isolation: labels, restart policy, stop signal and
// timeout, health check, resource limits the kernel applies per process
// (ulimits) or per group (reservation, OOM killer), devices, /dev/shm.
type Lifecycle struct {
	Labels      []string
	StopSignal  string
	StopTimeout int // -1: not given (docker stop's 10 seconds)
	MonitorOpts     // --restart, --health-*, --log-opt (monitoropts.go)
}

func lifecycleFlags(f *pflag.FlagSet, l *Lifecycle) {
	f.StringArrayVarP(&l.Labels, "label", "l", nil, "set meta data on a container (KEY=VALUE or KEY)")
	f.StringVar(&l.StopSignal, "stop-signal", "", "signal to stop the container (default the image's STOPSIGNAL, else SIGTERM)")
	f.IntVar(&l.StopTimeout, "stop-timeout", -1, "timeout (in seconds) to stop a container (-1: docker stop's 10)")
	monitorFlags(f, &l.MonitorOpts)
}

// CheckSignal accepts a signal as docker run --stop-signal and docker
// kill -s do: a number, or a name with or without SIG.
func CheckSignal(s string) error {
	if _, err := container.ParseSignal(s); err == nil {
		return nil
	}
	//lint:ignore ST1005 Docker's own words, as docker prints them
	return fmt.Errorf("Invalid signal: %s", s)
}

// config records the flags that belong to Config: the labels, over
// the image's own (as Docker merges them), the stop signal and timeout.
func (l *Lifecycle) config(c *container.Config, imageLabels map[string]string) error {
	if l.StopSignal != "" {
		if err := CheckSignal(l.StopSignal); err != nil {
			return err
		}
		c.StopSignal = l.StopSignal
	}
	if l.StopTimeout != -1 {
		c.StopTimeout = &l.StopTimeout
	}
	if err := l.MonitorOpts.config(c); err != nil {
		return err
	}
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
