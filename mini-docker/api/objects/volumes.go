package objects

import (
	"net/http"
	"strings"

	mobyvolume "github.com/moby/moby/api/types/volume"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume"
	"mini-docker/mini-docker/volume/local"
	"mini-docker/mini-docker/volume/mounts"
)

func (s *Server) volumeRoutes(m *http.ServeMux) {
	wire.Handle(m, "GET /volumes", s.volumes)
	wire.Handle(m, "GET /volumes/{$}", s.volumes)
	wire.Handle(m, "POST /volumes/create", s.createVolume)
	wire.Handle(m, "POST /volumes/prune", s.pruneVolumes)
	wire.Handle(m, "GET /volumes/{name}", s.withVolume(s.inspectVolume))
	wire.Handle(m, "DELETE /volumes/{name}", s.withVolume(s.removeVolume))
}

// volumeHandler answers a request about one volume.
type volumeHandler func(http.ResponseWriter, *http.Request, *engine.Engine, *local.Volume) error

// withVolume finds the volume the path names before h runs. A name
// that is no volume's name (local's rule: no slash, no dot first) is
// no volume: it never reaches the store's folders.
func (s *Server) withVolume(h volumeHandler) wire.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if spec.CheckVolumeName(name) != nil {
			return wire.NotFoundf("get %s: %v", name, local.ErrNoSuchVolume)
		}
		e, err := s.Open()
		if err != nil {
			return err
		}
		v, err := e.Volumes().Get(name)
		if err != nil {
			return err
		}
		return h(w, r, e, v)
	}
}

// volumeMatches reports whether v passes f; dangling reads the users.
func volumeMatches(e *engine.Engine, v *local.Volume, f filters.Args) bool {
	if dangling, ok, _ := f.Bool("dangling"); ok {
		users, _ := mounts.Users(e.Store, v.Name)
		if dangling != (len(users) == 0) {
			return false
		}
	}
	return f.Match("name", v.Name) && f.Any("driver", func(x string) bool { return v.Driver == x }) && f.MatchLabels(v.Labels)
}

// listVolumes reads a list's or a prune's filters (begin) and lists
// every volume.
func (s *Server) listVolumes(r *http.Request, known ...string) (*engine.Engine, filters.Args, []*local.Volume, error) {
	e, f, err := s.begin(r, known...)
	if err != nil {
		return nil, nil, nil, err
	}
	vs, err := e.Volumes().List()
	return e, f, vs, err
}

func (s *Server) volumes(w http.ResponseWriter, r *http.Request) error {
	e, f, vs, err := s.listVolumes(r, "name", "driver", "dangling", "label")
	if err != nil {
		return err
	}
	out := mobyvolume.ListResponse{Volumes: []mobyvolume.Volume{}, Warnings: []string{}}
	for _, v := range vs {
		if volumeMatches(e, v, f) {
			out.Volumes = append(out.Volumes, *v)
		}
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createVolume is docker volume create: a new volume, or the one of
// that name already there (as dockerd answers, 201 both times).
func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	var req mobyvolume.CreateRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	if req.Name != "" {
		if err := spec.CheckVolumeName(req.Name); err != nil {
			return wire.Badf("create %s: %v", req.Name, err)
		}
	}
	if req.Driver != "" && req.Driver != local.Driver {
		return wire.NotFoundf("create %s: error looking up volume plugin %s: plugin %q not found", req.Name, req.Driver, req.Driver)
	}
	for k := range req.DriverOpts {
		return wire.Badf("create %s: the local driver here takes no options (%s)", req.Name, k)
	}
	if req.ClusterVolumeSpec != nil {
		return wire.Badf("cluster volumes are not supported by mini-docker")
	}
	e, err := s.Open()
	if err != nil {
		return err
	}
	v, _, err := e.Volumes().Create(req.Name, req.Labels)
	if err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request, e *engine.Engine, v *local.Volume) error {
	wire.WriteJSON(w, http.StatusOK, v)
	return nil
}

// removeVolume is docker volume rm, through the command's own check:
// a volume a container uses (in any state) stays, a 409.
func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request, e *engine.Engine, v *local.Volume) error {
	if err := volume.RemoveUnused(e, v.Name); err != nil {
		if strings.Contains(err.Error(), "volume is in use") {
			err = wire.Conflicting(err)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneVolumes is docker volume prune. Under API 1.41 dockerd removes
// every volume no container uses, named or not (from 1.42 only the
// anonymous ones, unless all=true); the label filter narrows it.
func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	e, f, vs, err := s.listVolumes(r, "label", "all")
	if err != nil {
		return err
	}
	report := mobyvolume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range vs {
		if !f.MatchLabels(v.Labels) {
			continue
		}
		size := e.Volumes().Size(v.Name)
		if volume.RemoveUnused(e, v.Name) == nil {
			report.VolumesDeleted = append(report.VolumesDeleted, v.Name)
			report.SpaceReclaimed += uint64(size)
		}
	}
	wire.WriteJSON(w, http.StatusOK, report)
	return nil
}
