// Package ship is the Engine API's endpoints that make and ship images,
// for `mini-docker serve`: docker commit (POST /commit), docker build
// (POST /build, a tar context in, the builder's output streamed out),
// docker history, docker push, docker save (GET /images/get) and
// docker load (POST /images/load). Each calls what the mini-docker
// command of the same name runs (imageops, dockerfile): the API is a
// front end over the same engine, not a second one.
//
// Lesson 14 (lessons/14-api.md) teaches the API; lesson 12 the images.
package ship

import (
	"errors"
	"net/http"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/dockerfile"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// Server answers the endpoints from one state root.
type Server struct {
	Root string
	Open func() (*engine.Engine, error) // the engine for a request
}

// Routes adds POST /commit, POST /build, GET /images/get (save) and
// POST /images/load to m. History, push and save of one image sit
// under /images/NAME/..., whose router (package api) calls History,
// Push and Save.
func (s *Server) Routes(m *http.ServeMux) {
	wire.Handle(m, "POST /commit", s.commit)
	wire.Handle(m, "POST /build", s.build)
	wire.Handle(m, "GET /images/get", s.save)
	wire.Handle(m, "POST /images/load", s.load)
}

// open opens the engine and the image store for a request.
func (s *Server) open() (*engine.Engine, *store.Store, error) {
	e, err := s.Open()
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(s.Root)
	return e, st, err
}

// commitConfig is the body of POST /commit: a container config whose
// set fields replace the container's in the new image (as dockerd
// merges them); the docker CLI sends none.
func commitConfig(r *http.Request) (*mobycontainer.Config, error) {
	var cfg mobycontainer.Config
	if r.ContentLength == 0 {
		return &cfg, nil
	}
	err := wire.DecodeBody(r, &cfg)
	if wire.StatusOf(err) == http.StatusBadRequest && strings.Contains(err.Error(), "EOF") {
		return &cfg, nil // an empty chunked body
	}
	return &cfg, err
}

// commit is POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=
// (docker commit): `mini-docker commit` through newlayer.CommitContainer.
func (s *Server) commit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	if ref != "" {
		if _, err := reference.Parse(ref); err != nil {
			return wire.Badf("invalid reference format: %q: %v", ref, err)
		}
	}
	body, err := commitConfig(r)
	if err != nil {
		return err
	}
	e, st, err := s.open()
	var ct *container.Container
	if err == nil {
		ct, err = e.Find(q.Get("container"))
	}
	if err != nil {
		return err
	}
	pause := q.Get("pause") == "" || wire.BoolParam(r, "pause")
	img, err := newlayer.CommitContainer(e, st, ct, newlayer.ContainerCommit{Ref: ref, Comment: q.Get("comment"), Author: q.Get("author"),
		Pause: pause, Changes: func(cfg ocispec.ImageConfig, ext dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error) {
			merge(&cfg, body)
			cfg, ext, err := dockerfile.ApplyChanges(cfg, ext, q["changes"])
			if err != nil {
				return cfg, ext, wire.Bad(err)
			}
			return cfg, ext, nil
		}, Explain: e.Explain})
	var never *imageops.ErrNeverRan
	if errors.As(err, &never) {
		err = wire.Conflicting(err)
	}
	if err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusCreated, mobycontainer.CommitResponse{ID: img.ID.String()})
	return nil
}

// merge sets the fields body sets.
func merge(cfg *ocispec.ImageConfig, body *mobycontainer.Config) {
	if len(body.Cmd) > 0 {
		cfg.Cmd = body.Cmd
	}
	if len(body.Entrypoint) > 0 {
		cfg.Entrypoint = body.Entrypoint
	}
	if len(body.Env) > 0 {
		cfg.Env = body.Env
	}
	if body.WorkingDir != "" {
		cfg.WorkingDir = body.WorkingDir
	}
	if body.User != "" {
		cfg.User = body.User
	}
	for k, v := range body.Labels {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
}

// History answers GET /images/NAME/history (docker history): the rows
// of `mini-docker history`, newest first.
func History(w http.ResponseWriter, root, name string) error {
	st, err := store.Open(root)
	if err != nil {
		return err
	}
	img, err := imageops.Lookup(st, name)
	if err != nil {
		return NoSuchImage(name, err)
	}
	rows, err := imageops.History(img)
	if err != nil {
		return err
	}
	out := []image.HistoryResponseItem{}
	for i, row := range rows {
		item := image.HistoryResponseItem{ID: row.ID, CreatedBy: row.CreatedBy, Size: row.Size, Comment: row.Comment, Tags: []string{}}
		if i == 0 {
			item.ID = img.ID.String()
		}
		if !row.Created.IsZero() {
			item.Created = row.Created.Unix()
		}
		out = append(out, item)
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// NoSuchImage gives a lookup's not-found dockerd's words.
func NoSuchImage(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return wire.NotFoundf("No such image: %s", name)
	}
	if _, perr := reference.Parse(name); perr != nil {
		return wire.Badf("invalid reference format: %q", name)
	}
	return err
}
