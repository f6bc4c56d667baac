package image

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"mini-docker/pull/registry"
)

// DefaultConfigFile is the toolkit's daemon.json: Docker's keys
// "registry-mirrors" and "insecure-registries" (override with the
// environment variable MINI_DOCKER_CONFIG).
const DefaultConfigFile = "/etc/mini-docker/daemon.json"

// MirrorEnv names registry mirrors for docker.io, comma-separated.
const MirrorEnv = "MINI_DOCKER_REGISTRY_MIRROR"

// RegistryOptions gathers what a pull needs to reach registries, the way
// Docker does: mirrors and insecure registries from the config file, the
// environment and the command line (all added up), and credentials from
// ~/.docker/config.json.
func RegistryOptions(mirrors, insecure []string) (registry.Options, error) {
	var opts registry.Options
	path := os.Getenv("MINI_DOCKER_CONFIG")
	if path == "" {
		path = DefaultConfigFile
	}
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return opts, fmt.Errorf("read %s: %w", path, err)
	}
	if err == nil {
		var cfg struct {
			Mirrors  []string `json:"registry-mirrors"`
			Insecure []string `json:"insecure-registries"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return opts, fmt.Errorf("parse %s: %w", path, err)
		}
		opts.Mirrors, opts.Insecure = cfg.Mirrors, cfg.Insecure
	}
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
