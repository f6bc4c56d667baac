package image

import (
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/store"
)

// The parsers of what a registry or an archive sends: JSON first, then
// every digest and size checked (store.Validate*) before any of it is
// used in a URL or a path. A registry is untrusted input, as a layer is.

// ParseIndex parses an image index (or a Docker manifest list).
func ParseIndex(raw []byte) (ocispec.Index, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return idx, fmt.Errorf("parse index: %w", err)
	}
	return idx, store.ValidateIndex(idx)
}

// ParseManifest parses an image manifest (OCI or Docker schema 2).
func ParseManifest(raw []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("parse manifest: %w", err)
	}
	return m, store.ValidateManifest(m)
}

// ParseConfig parses an image config whose manifest lists layers layers.
func ParseConfig(raw []byte, layers int) (ocispec.Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("parse config: %w", err)
	}
	return cfg, store.ValidateConfig(cfg, layers)
}
