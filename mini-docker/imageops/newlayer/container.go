package newlayer

import (
	"fmt"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
)

// ContainerCommit is what docker commit asks of a container's commit
// (`mini-docker commit` and the Engine API's POST /commit).
type ContainerCommit struct {
	Ref             string // REPO[:TAG]; "" names it mini-docker-commit-ID
	Comment, Author string
	Pause           bool // freeze the container while its layer is read
	// Changes edits the config the commit starts from (the image's, with
	// the container's Env, Cmd, Entrypoint, WorkingDir and User): docker
	// commit -c, applied by the Dockerfile parser, with Docker's own
	// fields beside it (HEALTHCHECK, ONBUILD). Nil changes nothing.
	Changes func(ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error)
	Explain *explain.Printer
}

// CommitContainer makes a new image from ct's changes: its upper layer
// becomes a gzip'd layer on top of its image's, and the image is tagged.
func CommitContainer(e *engine.Engine, s *store.Store, ct *container.Container, c ContainerCommit) (*imageops.Image, error) {
	upper := ct.GraphDriver.Data["UpperDir"]
	if upper == "" {
		return nil, &imageops.ErrNeverRan{ID: ct.ID}
	}
	parent, err := imageops.Lookup(s, ct.Image)
	if err != nil {
		return nil, fmt.Errorf("the container's image %s: %w", ct.Image, err)
	}
	cfg := parent.Config.Config
	cfg.Env, cfg.Cmd, cfg.Entrypoint = ct.Config.Env, ct.Config.Cmd, ct.Config.Entrypoint
	cfg.WorkingDir, cfg.User = ct.Config.WorkingDir, ct.Config.User
	ext := imageops.ConfigExt(parent)
	if c.Changes != nil {
		if cfg, ext, err = c.Changes(cfg, ext); err != nil {
			return nil, err
		}
	}
	if c.Pause && ct.State.Running && !ct.State.Paused {
		if err := e.Pause(ct); err == nil {
			defer e.Unpause(ct)
		}
	}
	unlock, err := s.LockShared()
	if err != nil {
		return nil, err
	}
	defer unlock()
	layer, err := Commit(s, upper, c.Explain)
	if err != nil {
		return nil, err
	}
	createdBy := strings.TrimSpace(ct.Path + " " + strings.Join(ct.Args, " "))
	img, err := imageops.New(s, parent, imageops.Change{Config: cfg, CreatedBy: createdBy, Comment: c.Comment, Author: c.Author, Layer: layer, Ext: &ext}, c.Explain)
	if err != nil {
		return nil, err
	}
	name := c.Ref
	if name == "" {
		name = "mini-docker-commit-" + img.ID.Encoded()[:12]
	}
	if _, err := imageops.Tag(s, img, name, c.Explain); err != nil {
		return nil, err
	}
	return img, nil
}
