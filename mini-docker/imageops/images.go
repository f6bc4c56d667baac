package imageops

import (
	"errors"
	"fmt"
	"strings"

	"mini-docker/mini-docker/engine"
	"mini-docker/pull/store"
)

// storeImages is pull's image store as the engine reads it.
type storeImages struct{ s *store.Store }

func (a storeImages) Lookup(ref string) (*engine.Image, error) {
	img, err := a.s.Lookup(ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", engine.ErrImageNotFound, ref)
	}
	if err != nil {
		return nil, err
	}
	out := &engine.Image{Ref: img.Ref, ID: img.ID.String(), Config: img.Config, LayerDirs: img.LayerDirs}
	out.Healthcheck = ConfigExt(&Image{ConfigRaw: img.ConfigRaw}).Healthcheck // Docker's, beside the OCI fields
	return out, nil
}

// OpenImages gives e the image store under its state root, the one
// `mini-docker pull` fills (the CLI and the API server both run from it).
func OpenImages(e *engine.Engine) error {
	s, err := store.Open(e.Root)
	if err != nil {
		return err
	}
	e.Images = storeImages{s}
	return nil
}

// Inspect returns the image ref names in the shape docker image inspect
// prints (the CLI's inspect and the API's GET /images/NAME/json).
func Inspect(root, ref string) (map[string]any, error) {
	s, err := store.Open(root)
	if err != nil {
		return nil, err
	}
	img, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	tags, digests := []string{}, []string{} // an untagged image's are empty lists, as Docker's
	if img.Ref != "" {
		tags, digests = []string{FamiliarRef(img.Ref)}, []string{RepoName(img.Ref) + "@" + img.Digest.String()}
	}
	return map[string]any{
		"Id":           img.ID.String(),
		"RepoTags":     tags,
		"RepoDigests":  digests,
		"Created":      img.Config.Created,
		"Config":       InspectConfig(s, img),
		"Architecture": img.Config.Architecture,
		"Os":           img.Config.OS,
		"Size":         img.Size,
		"RootFS":       map[string]any{"Type": img.Config.RootFS.Type, "Layers": img.Config.RootFS.DiffIDs}, // Docker's names for the config's
		"GraphDriver":  map[string]any{"Name": "overlay2", "Data": map[string]string{"LowerDir": strings.Join(img.LayerDirs, ":")}},
	}, nil
}

// FamiliarRef is ref as Docker shows it: without docker.io/library/.
func FamiliarRef(ref string) string {
	return strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/"), "library/")
}

// RepoName is ref without its tag or digest.
func RepoName(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}
