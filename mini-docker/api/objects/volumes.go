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
	m.HandleFunc("GET /volumes", s.volumes)
	m.HandleFunc("GET /volumes/{$}", s.volumes)
	m.HandleFunc("POST /volumes/create", s.createVolume)
	m.HandleFunc("POST /volumes/prune", s.pruneVolumes)
	m.HandleFunc("GET /volumes/{name}", s.withVolume(s.inspectVolume))
	m.HandleFunc("DELETE /volumes/{name}", s.withVolume(s.removeVolume))
}

// volumeHandler answers a request about one volume.
type volumeHandler func(http.ResponseWriter, *http.Request, *engine.Engine, *local.Volume)

// withVolume finds the volume the path names before h runs. A name
// that is no volume's name (local's rule: no slash, no dot first) is
// no volume: it never reaches the store's folders.
func (s *Server) withVolume(h volumeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if spec.CheckVolumeName(name) != nil {
			wire.WriteError(w, http.StatusNotFound, wire.NotFoundf("get %s: %v", name, local.ErrNoSuchVolume))
			return
		}
		e, err := s.Open()
		if err != nil {
			wire.WriteErr(w, err)
			return
		}
		v, err := e.Volumes().Get(name)
		if err != nil {
			wire.WriteErr(w, err)
			return
		}
		h(w, r, e, v)
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

func (s *Server) volumes(w http.ResponseWriter, r *http.Request) {
	e, f, ok := s.begin(w, r, "name", "driver", "dangling", "label")
	if !ok {
		return
	}
	vs, err := e.Volumes().List()
	if err != nil {
		wire.WriteErr(w, err)
		return
	}
	out := mobyvolume.ListResponse{Volumes: []mobyvolume.Volume{}, Warnings: []string{}}
	for _, v := range vs {
		if volumeMatches(e, v, f) {
			out.Volumes = append(out.Volumes, *v)
		}
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// createVolume is docker volume create: a new volume, or the one of
// that name already there (as dockerd answers, 201 both times).
func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) {
	var req mobyvolume.CreateRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		wire.WriteErr(w, err)
		return
	}
	if req.Name != "" {
		if err := spec.CheckVolumeName(req.Name); err != nil {
			wire.WriteErr(w, wire.Badf("create %s: %v", req.Name, err))
			return
		}
	}
	if req.Driver != "" && req.Driver != local.Driver {
		wire.WriteErr(w, wire.NotFoundf("create %s: error looking up volume plugin %s: plugin %q not found", req.Name, req.Driver, req.Driver))
		return
	}
	for k := range req.DriverOpts {
		wire.WriteErr(w, wire.Badf("create %s: the local driver here takes no options (%s)", req.Name, k))
		return
	}
	if req.ClusterVolumeSpec != nil {
		wire.WriteErr(w, wire.Badf("cluster volumes are not supported by mini-docker"))
		return
	}
	e, err := s.Open()
	if err != nil {
		wire.WriteErr(w, err)
		return
	}
	v, _, err := e.Volumes().Create(req.Name, req.Labels)
	if err != nil {
		wire.WriteErr(w, err)
		return
	}
	wire.WriteJSON(w, http.StatusCreated, v)
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request, e *engine.Engine, v *local.Volume) {
	wire.WriteJSON(w, http.StatusOK, v)
}

// removeVolume is docker volume rm, through the command's own check:
// a volume a container uses (in any state) stays, a 409.
func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request, e *engine.Engine, v *local.Volume) {
	if err := volume.RemoveUnused(e, v.Name); err != nil {
		if strings.Contains(err.Error(), "volume is in use") {
			err = wire.Conflicting(err)
		}
		wire.WriteErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pruneVolumes is docker volume prune. Under API 1.41 dockerd removes
// every volume no container uses, named or not (from 1.42 only the
// anonymous ones, unless all=true); the label filter narrows it.
func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) {
	e, f, ok := s.begin(w, r, "label", "all")
	if !ok {
		return
	}
	vs, err := e.Volumes().List()
	if err != nil {
		wire.WriteErr(w, err)
		return
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
}
