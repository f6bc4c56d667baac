package image

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"mini-docker/internal/units"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
)

// DefaultConfigFile is the toolkit's daemon.json (override with the
// environment variable MINI_DOCKER_CONFIG): Docker's keys
// "registry-mirrors" and "insecure-registries", and our own bounds on
// layers, "max-layer-size" ("10g"), "max-layer-ratio" (100) and
// "store-reserve" (percent of the store's filesystem kept free, default 5);
// for networks, Docker's "iptables" and "firewall-backend".
const DefaultConfigFile = "/etc/mini-docker/daemon.json"

// DaemonConfig is what the toolkit reads of daemon.json.
type DaemonConfig struct {
	Mirrors       []string `json:"registry-mirrors"`
	Insecure      []string `json:"insecure-registries"`
	MaxLayerSize  string   `json:"max-layer-size"`  // a size: "10g", "512m", bytes
	MaxLayerRatio float64  `json:"max-layer-ratio"` // uncompressed bytes per compressed byte
	StoreReserve  *float64 `json:"store-reserve"`   // percent; absent: store.DefaultReserve
	// Docker's firewall keys, for mini-docker's networks: "iptables":
	// false makes no NAT or isolation rules; "firewall-backend" picks
	// "nftables" or "iptables" (absent: detected).
	Iptables        *bool  `json:"iptables"`
	FirewallBackend string `json:"firewall-backend"`
}

// ParseDaemonConfig parses the content of a daemon.json and checks the
// values of our keys.
func ParseDaemonConfig(b []byte) (DaemonConfig, error) {
	var cfg DaemonConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, err
	}
	if cfg.MaxLayerSize != "" {
		if _, err := units.RAMInBytes(cfg.MaxLayerSize); err != nil {
			return cfg, fmt.Errorf("max-layer-size: %w", err)
		}
	}
	if cfg.MaxLayerRatio < 0 || math.IsNaN(cfg.MaxLayerRatio) {
		return cfg, fmt.Errorf("max-layer-ratio %v: must be a number, 0 or more", cfg.MaxLayerRatio)
	}
	if r := cfg.StoreReserve; r != nil && !(*r >= 0 && *r < 100) {
		return cfg, fmt.Errorf("store-reserve %v: must be a percent, 0 or more and less than 100", *r)
	}
	if b := cfg.FirewallBackend; b != "" && b != "nftables" && b != "iptables" {
		return cfg, fmt.Errorf("firewall-backend %q: want nftables or iptables", b)
	}
	return cfg, nil
}

// ReadDaemonConfig reads $MINI_DOCKER_CONFIG, else DefaultConfigFile; a
// missing file is an empty configuration.
func ReadDaemonConfig() (DaemonConfig, string, error) {
	path := os.Getenv("MINI_DOCKER_CONFIG")
	if path == "" {
		path = DefaultConfigFile
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return DaemonConfig{}, path, nil
	}
	if err != nil {
		return DaemonConfig{}, path, fmt.Errorf("read %s: %w", path, err)
	}
	cfg, err := ParseDaemonConfig(b)
	if err != nil {
		return cfg, path, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, path, nil
}

// DaemonLimits is LayerLimits with daemon.json's values alone, as
// `mini-docker load` and POST /images/load apply them: it sets the
// store's reserve and returns the limits on each layer.
func DaemonLimits(s *store.Store) (Limits, error) {
	lim, reserve, err := LayerLimits("", -1, -1)
	if err != nil {
		return Limits{}, err
	}
	s.Reserve = reserve
	return lim, nil
}

// LayerLimits gathers the bounds on layers from daemon.json and the
// command line (flags win; an empty flag or a negative number leaves
// daemon.json's value). It returns the limits and the store reserve.
func LayerLimits(maxSize string, maxRatio, reserve float64) (Limits, float64, error) {
	cfg, _, err := ReadDaemonConfig()
	if err != nil {
		return Limits{}, 0, err
	}
	var lim Limits
	if maxSize == "" {
		maxSize = cfg.MaxLayerSize
	}
	if maxSize != "" {
		if lim.MaxLayerSize, err = units.RAMInBytes(maxSize); err != nil {
			return lim, 0, fmt.Errorf("max-layer-size: %w", err)
		}
	}
	lim.MaxLayerRatio = cfg.MaxLayerRatio
	if maxRatio >= 0 {
		lim.MaxLayerRatio = maxRatio
	}
	res := store.DefaultReserve
	if cfg.StoreReserve != nil {
		res = *cfg.StoreReserve
	}
	if reserve >= 0 {
		if reserve >= 100 {
			return lim, 0, fmt.Errorf("store-reserve %v: must be less than 100 (percent)", reserve)
		}
		res = reserve
	}
	return lim, res, nil
}

// MirrorEnv names registry mirrors for docker.io, comma-separated.
const MirrorEnv = "MINI_DOCKER_REGISTRY_MIRROR"

// RegistryOptions gathers what a pull needs to reach registries, the way
// Docker does: mirrors and insecure registries from the config file, the
// environment and the command line (all added up), and credentials from
// ~/.docker/config.json.
func RegistryOptions(mirrors, insecure []string) (registry.Options, error) {
	var opts registry.Options
	cfg, _, err := ReadDaemonConfig()
	if err != nil {
		return opts, err
	}
	opts.Mirrors, opts.Insecure = cfg.Mirrors, cfg.Insecure
	if env := os.Getenv(MirrorEnv); env != "" {
		opts.Mirrors = append(strings.Split(env, ","), opts.Mirrors...)
	}
	opts.Mirrors = append(append([]string{}, mirrors...), opts.Mirrors...)
	opts.Insecure = append(opts.Insecure, insecure...)
	for i, m := range opts.Mirrors {
		if !strings.Contains(m, "://") {
			// A bare host: plain HTTP on loopback, HTTPS elsewhere (as for registries).
			scheme := "https://"
			if registry.New(opts).PlainHTTP(m) {
				scheme = "http://"
			}
			opts.Mirrors[i] = scheme + m
		}
	}
	creds, err := registry.LoadDockerCredentials(registry.DockerConfigPath())
	if err != nil {
		return opts, err
	}
	opts.Credentials = creds
	return opts, nil
}
