package store

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// MediaTypeDockerLayer is the media type of a layer in Docker's image
// format (the other Docker types are pull/registry's).
const MediaTypeDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"

// OCILayerType maps Docker's layer media types to OCI's: the same bytes,
// so digests do not change, but one manifest must not mix the two. Any
// other type is returned as it is. It is here, not in pull/registry, for
// the programs that write manifests without the registry client
// (mini-docker's commit).
func OCILayerType(mt string) string {
	switch mt {
	case MediaTypeDockerLayer:
		return ocispec.MediaTypeImageLayerGzip
	case "application/vnd.docker.image.rootfs.diff.tar":
		return ocispec.MediaTypeImageLayer
	}
	return mt
}
