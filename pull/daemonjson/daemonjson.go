// Package daemonjson reads the toolkit's daemon.json, Docker's
// configuration file in our terms (lesson 08 for the registry keys,
// lesson 12 for the firewall ones). It imports nothing heavy, so that
// mini-docker's networks read the firewall keys without linking the
// registry client that pull/image (the registry and layer keys) is.
package daemonjson

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"mini-docker/internal/units"
)

// DefaultFile is the toolkit's daemon.json (override with the
// environment variable MINI_DOCKER_CONFIG): Docker's keys
// "registry-mirrors" and "insecure-registries", and our own bounds on
// layers, "max-layer-size" ("10g"), "max-layer-ratio" (100) and
// "store-reserve" (percent of the store's filesystem kept free, default 5);
// for networks, Docker's "iptables" and "firewall-backend".
const DefaultFile = "/etc/mini-docker/daemon.json"

// Config is what the toolkit reads of daemon.json.
type Config struct {
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

// Parse parses the content of a daemon.json and checks the
// values of our keys.
func Parse(b []byte) (Config, error) {
	var cfg Config
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

// Read reads $MINI_DOCKER_CONFIG, else DefaultFile; a
// missing file is an empty configuration.
func Read() (Config, string, error) {
	path := os.Getenv("MINI_DOCKER_CONFIG")
	if path == "" {
		path = DefaultFile
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return Config{}, path, nil
	}
	if err != nil {
		return Config{}, path, fmt.Errorf("read %s: %w", path, err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return cfg, path, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, path, nil
}
