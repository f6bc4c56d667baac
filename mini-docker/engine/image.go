package engine

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/mini-docker/container"
)

// Image is what a run needs from the image store (pull/store's Image).
type Image struct {
	Ref       string // normalized reference, docker.io/library/debian:latest
	ID        string // the image ID (config digest), "sha256:..."
	Config    ocispec.Image
	LayerDirs []string // unpacked layers, base first
	// Healthcheck is Docker's HEALTHCHECK, beside the OCI config's fields.
	Healthcheck *container.HealthConfig
}

// ImageStore is the image store mini-docker runs from.
type ImageStore interface {
	// Lookup returns the image ref names; ErrImageNotFound when absent.
	Lookup(ref string) (*Image, error)
}
