package contents

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/cp"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/overlay/overlayfs"
)

// layers are ct's upper dir and its lower dirs (top first): what diff
// and export read.
func layers(ct *container.Container) (string, []string, error) {
	upper := ct.GraphDriver.Data["UpperDir"]
	if upper == "" {
		return "", nil, wire.Conflicting(&imageops.ErrNeverRan{ID: ct.ID})
	}
	return upper, ct.LowerDirs(), nil
}

// changeKinds are docker diff's letters as the API numbers them.
var changeKinds = map[overlayfs.ChangeKind]mobycontainer.ChangeType{
	overlayfs.Modified: mobycontainer.ChangeModify, overlayfs.Added: mobycontainer.ChangeAdd, overlayfs.Deleted: mobycontainer.ChangeDelete,
}

// changes is GET /containers/{id}/changes (docker diff): the upper
// layer against the image's, as `mini-docker diff` compares them.
func changes(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	upper, lower, err := layers(ct)
	if err != nil {
		return err
	}
	list, err := overlayfs.Diff(upper, lower)
	if err != nil {
		return err
	}
	out := []mobycontainer.FilesystemChange{}
	for _, ch := range imageops.DropMountPoints(list, upper) {
		out = append(out, mobycontainer.FilesystemChange{Path: ch.Path, Kind: changeKinds[ch.Kind]})
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// export is GET /containers/{id}/export: the merged filesystem as a tar
// stream, as `mini-docker export` writes it.
func export(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	upper, lower, err := layers(ct)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	// Once the stream has begun an error can only cut it short: the
	// client sees a truncated archive, as with dockerd.
	imageops.Export(w, upper, lower, e.Store.Dir(ct.ID), e.Explain)
	return nil
}

// pathParam is the ?path= of the archive endpoints.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", wire.Badf("path cannot be empty")
	}
	return p, nil
}

// archiveError gives cp's errors their status: a path not in the
// container is a 404, a destination of the wrong kind a 400.
func archiveError(err error) error {
	var nf *cp.NotFoundError
	if errors.As(err, &nf) {
		return wire.NotFoundf("%v", err)
	}
	if wire.StatusOf(err) == http.StatusInternalServerError && !errors.Is(err, os.ErrPermission) {
		return wire.Bad(err)
	}
	return err
}

// getArchive is GET and HEAD /containers/{id}/archive: the path's stat
// in the X-Docker-Container-Path-Stat header (base64 JSON), then, for
// GET, the path as a tar stream: the container's half of
// `docker cp CONTAINER:SRC DEST`.
func getArchive(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	started := false
	setStat := func(st cp.Stat) {
		b, _ := json.Marshal(mobycontainer.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, Mtime: st.Mtime, LinkTarget: st.LinkTarget})
		w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(b))
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		started = true
	}
	var body http.ResponseWriter
	if r.Method == http.MethodGet {
		body = w
	}
	if err := cp.Archive(e, ct, p, setStat, body); err != nil && !started {
		return archiveError(err)
	}
	return nil
}

// putArchive is PUT /containers/{id}/archive: the tar stream of the
// body unpacked into the folder ?path=, which must exist: the
// container's half of `docker cp SRC CONTAINER:DEST`.
func putArchive(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	if err := cp.Extract(e, ct, p, r.Body); err != nil {
		return archiveError(err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
