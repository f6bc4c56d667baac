package ship

import (
	"net/http"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/jsonstream"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/dockerfile"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/pull/image"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// Import answers POST /images/create?fromSrc=-&repo=&tag=&message=&changes=&platform=
// (docker import): the body is the tar, made an image of one layer by
// newlayer.Import as `mini-docker import` makes it; the answer is one
// status message with the image ID, which the docker CLI prints. A URL
// in fromSrc (the daemon downloading) is refused: the CLI sends files
// and stdin as the body.
func (s *Server) Import(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "-" {
		return wire.Badf("importing from a URL (fromSrc=%s) is not supported by mini-docker's API: send the tar as the body, fromSrc=-", src)
	}
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	if ref != "" {
		if rr, err := reference.Parse(ref); err != nil || rr.Digest != "" {
			return wire.Badf("invalid reference format: %q: a REPOSITORY[:TAG] to import into", ref)
		}
	}
	plat, err := image.ImportPlatform(q.Get("platform"))
	if err != nil {
		return wire.Bad(err)
	}
	st, err := store.Open(s.Root)
	if err != nil {
		return err
	}
	img, err := newlayer.Import(st, r.Body, newlayer.ImportOptions{Ref: ref, Source: "-", Message: q.Get("message"), Platform: plat,
		Changes: func(cfg ocispec.ImageConfig, ext dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error) {
			cfg, ext, err := dockerfile.ApplyChanges(cfg, ext, q["changes"])
			if err != nil {
				return cfg, ext, wire.Bad(err)
			}
			return cfg, ext, nil
		}})
	if err != nil {
		if wire.StatusOf(err) < 500 {
			return err
		}
		return wire.Bad(err) // the tar the client sent
	}
	wire.NewStream(w).Send(jsonstream.Message{Status: img.ID.String()})
	return nil
}
