package ship

import (
	"fmt"
	"net/http"

	"github.com/moby/moby/api/types/jsonstream"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/pull/image"
	"mini-docker/pull/store"
)

// docker save and docker load: the archive `mini-docker save` writes
// and `mini-docker load` reads (pull/image's Save and Load), as the
// body of the answer and of the request.

// Save answers GET /images/get?names=A&names=B and GET
// /images/NAME/get: one tar archive of the images, both a docker save
// tarball and an OCI archive. Every name is looked up before the
// first byte goes: a missing image is a 404, not a cut archive.
func Save(w http.ResponseWriter, root string, names []string) error {
	if len(names) == 0 {
		return wire.Badf("no image given: names is empty")
	}
	st, err := store.Open(root)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := st.Lookup(name); err != nil {
			return NoSuchImage(name, err)
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	image.Save(st, names, w) // an error past the header cuts the archive: the client sees a short tar
	return nil
}

func (s *Server) save(w http.ResponseWriter, r *http.Request) error {
	return Save(w, s.Root, r.URL.Query()["names"])
}

// load answers POST /images/load: the archive in the body, its blobs
// verified and its layers unpacked (within daemon.json's bounds, as
// `mini-docker load`), then one message per image tagged. A client
// that leaves stops the load, which removes what it half made.
func (s *Server) load(w http.ResponseWriter, r *http.Request) error {
	e, st, err := s.open()
	if err != nil {
		return err
	}
	lim, err := image.DaemonLimits(st)
	if err != nil {
		return err
	}
	names, err := image.Load(r.Context(), st, r.Body, lim, e.Explain)
	if err != nil {
		return wire.Badf("invalid image archive: %v", err)
	}
	stream := wire.NewStream(w)
	for _, n := range names {
		stream.Send(jsonstream.Message{Stream: fmt.Sprintf("Loaded image: %s\n", n)})
	}
	return nil
}
