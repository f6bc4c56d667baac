package image

import (
	"fmt"
	"os"
	"strings"

	"mini-docker/internal/units"
	"mini-docker/pull/daemonjson"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
)

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
	cfg, _, err := daemonjson.Read()
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
	cfg, _, err := daemonjson.Read()
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
