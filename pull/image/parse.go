package image

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/registry"
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

// ParseManifest parses an image manifest (OCI or Docker schema 2) and
// refuses one that is not a container image: another kind of artifact
// a registry stores (a Helm chart, a signature: another config media
// type, layers that are not file system changes), or one deeper than
// the 125 layers Docker's engine takes.
func ParseManifest(raw []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("parse manifest: %w", err)
	}
	if err := store.ValidateManifest(m); err != nil {
		return m, err
	}
	switch m.Config.MediaType {
	case ocispec.MediaTypeImageConfig, registry.MediaTypeDockerConfig, "":
	default:
		//lint:ignore ST1005 Docker's own words
		return m, fmt.Errorf("Encountered remote %q(unknown) when fetching: not a container image's config", m.Config.MediaType)
	}
	for i, l := range m.Layers {
		if l.MediaType != "" && !strings.HasPrefix(l.MediaType, "application/vnd.oci.image.layer.") && !strings.HasPrefix(l.MediaType, "application/vnd.docker.image.rootfs.") {
			return m, fmt.Errorf("layer %d: media type %q is not a layer of a container image", i, l.MediaType)
		}
	}
	if len(m.Layers) > MaxLayers {
		return m, fmt.Errorf("max depth exceeded: %d layers, more than the %d Docker's engine takes", len(m.Layers), MaxLayers)
	}
	return m, nil
}

// MaxLayers is the deepest image a pull or load takes: Docker's
// maxLayerDepth.
const MaxLayers = 125

// ParseConfig parses an image config whose manifest lists layers layers.
func ParseConfig(raw []byte, layers int) (ocispec.Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("parse config: %w", err)
	}
	return cfg, store.ValidateConfig(cfg, layers)
}
