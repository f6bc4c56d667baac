package spec

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/logs"
)

// MonitorOpts are the run flags that the container's monitor carries
// out while the container lives (package engine/monitor): the restart
// policy (engine/restart), the health check (engine/health) and the
// log's rotation (package logs).
type MonitorOpts struct {
	Restart           string
	LogOpts           []string // --log-opt max-size=10m, max-file=3
	HealthCmd         string
	HealthInterval    time.Duration
	HealthTimeout     time.Duration
	HealthStartPeriod time.Duration
	// HealthStartInterval is Docker 25's --health-start-interval: the
	// time between checks during the start period.
	HealthStartInterval time.Duration
	HealthRetries       int
	NoHealthcheck       bool
}

func monitorFlags(f *pflag.FlagSet, m *MonitorOpts) {
	f.StringVar(&m.Restart, "restart", "no", "restart policy to apply when a container exits: no, on-failure[:max-retries], always, unless-stopped (the monitor restarts it; mini-docker has no daemon, so nothing restarts containers when the host boots)")
	f.StringVar(&m.HealthCmd, "health-cmd", "", "command to run to check health (in the container, as mini-docker exec runs it; the monitor of a detached container runs it)")
	f.Var((*duration)(&m.HealthInterval), "health-interval", "time between running the check (ms|s|m|h); 0: the image's, else 30s")
	f.Var((*duration)(&m.HealthTimeout), "health-timeout", "maximum time to allow one check to run (ms|s|m|h); 0: the image's, else 30s")
	f.Var((*duration)(&m.HealthStartPeriod), "health-start-period", "start period for the container to initialize before starting health-retries countdown (ms|s|m|h)")
	f.Var((*duration)(&m.HealthStartInterval), "health-start-interval", "time between running the check during the start period (ms|s|m|h); 0: the image's, else 5s")
	f.IntVar(&m.HealthRetries, "health-retries", 0, "consecutive failures needed to report unhealthy; 0: the image's, else 3")
	f.BoolVar(&m.NoHealthcheck, "no-healthcheck", false, "disable any container-specified HEALTHCHECK")
	f.StringArrayVar(&m.LogOpts, "log-opt", nil, "log driver options of json-file: max-size=SIZE (rotate the log at SIZE: 10m, 1g), max-file=N (keep N files, default 1)")
}

// config records the health check, as Docker's CLI makes it
// (HealthConfig, with the test ["CMD-SHELL", CMD]; ["NONE"] with
// --no-healthcheck), checked as its CLI and daemon check it. Fields left
// zero take the image's HEALTHCHECK (MergeHealthcheck), then Docker's
// defaults (package engine/health).
func (m *MonitorOpts) config(c *container.Config) error {
	set := m.HealthCmd != "" || m.HealthInterval != 0 || m.HealthTimeout != 0 || m.HealthStartPeriod != 0 || m.HealthStartInterval != 0 || m.HealthRetries != 0
	if m.NoHealthcheck {
		if set {
			return errors.New("--no-healthcheck conflicts with --health-* options")
		}
		c.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		return nil
	}
	if !set {
		return nil
	}
	for _, d := range []struct {
		flag, field string
		v           time.Duration
	}{{"interval", "Interval", m.HealthInterval}, {"timeout", "Timeout", m.HealthTimeout}, {"start-period", "StartPeriod", m.HealthStartPeriod},
		{"start-interval", "StartInterval", m.HealthStartInterval}} {
		if d.v < 0 {
			return fmt.Errorf("--health-%s cannot be negative", d.flag)
		}
		if d.v != 0 && d.v < time.Millisecond {
			return fmt.Errorf("%s in Healthcheck cannot be less than 1ms", d.field)
		}
	}
	if m.HealthRetries < 0 {
		return errors.New("--health-retries cannot be negative")
	}
	c.Healthcheck = &container.HealthConfig{Interval: m.HealthInterval, Timeout: m.HealthTimeout, StartPeriod: m.HealthStartPeriod,
		StartInterval: m.HealthStartInterval, Retries: m.HealthRetries}
	if m.HealthCmd != "" {
		c.Healthcheck.Test = []string{"CMD-SHELL", m.HealthCmd}
	}
	return nil
}

// MergeHealthcheck is the container's health check: the run's, its
// unset fields taken from the image's HEALTHCHECK, as Docker's daemon
// merges them (daemon/commit.go's merge).
func MergeHealthcheck(run, image *container.HealthConfig) *container.HealthConfig {
	if image == nil {
		return run
	}
	if run == nil {
		h := *image
		return &h
	}
	h := *run
	if len(h.Test) == 0 {
		h.Test = image.Test
	}
	h.Interval = cmp.Or(h.Interval, image.Interval)
	h.Timeout = cmp.Or(h.Timeout, image.Timeout)
	h.StartPeriod = cmp.Or(h.StartPeriod, image.StartPeriod)
	h.StartInterval = cmp.Or(h.StartInterval, image.StartInterval)
	h.Retries = cmp.Or(h.Retries, image.Retries)
	return &h
}

// hostConfig records the restart policy, checked as Docker's CLI and
// daemon check it (opts.ParseRestartPolicy, then
// container.ValidateRestartPolicy), with their words.
func (m *MonitorOpts) hostConfig(hc *container.HostConfig) error {
	p, err := ParseRestartPolicy(m.Restart)
	if err != nil {
		return err
	}
	if hc.AutoRemove && !p.IsNone() {
		return errors.New("conflicting options: cannot specify both --restart and --rm")
	}
	hc.RestartPolicy = p
	// --log-opt K=V as Docker's CLI reads it (ConvertKVStringsToMap);
	// the json-file driver, the only one, checks them.
	hc.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{}}
	for _, kv := range m.LogOpts {
		k, v, _ := strings.Cut(kv, "=")
		hc.LogConfig.Config[k] = v
	}
	_, err = logs.ParseRotation(hc.LogConfig.Config)
	return err
}

// ParseRestartPolicy reads --restart NAME[:MAX-RETRIES].
func ParseRestartPolicy(s string) (mobycontainer.RestartPolicy, error) {
	var p mobycontainer.RestartPolicy
	if s == "" {
		return p, nil
	}
	name, count, ok := strings.Cut(s, ":")
	if ok && name == "" {
		return p, errors.New("invalid restart policy format: no policy provided before colon")
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	p.Name = mobycontainer.RestartPolicyMode(name)
	return p, mobycontainer.ValidateRestartPolicy(p)
}

// duration is a flag of type time.Duration whose errors are
// time.ParseDuration's own, as Docker's CLI prints them (pflag's
// DurationVar words them its own way).
type duration time.Duration

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

func (d *duration) String() string { return time.Duration(*d).String() }
func (d *duration) Type() string   { return "duration" }
