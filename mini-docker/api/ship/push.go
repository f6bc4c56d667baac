package ship

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/imageops/push"
	"mini-docker/pull/store"
)

// Push answers POST /images/NAME/push?tag= (docker push): `mini-docker
// push` (push.Push) with its lines sent as progress messages, one
// line per layer as the docker CLI draws them. Credentials are the
// server's (~/.docker/config.json, as for pulls); a client that leaves
// cancels the push.
func (s *Server) Push(w http.ResponseWriter, r *http.Request, name string) error {
	ref := name
	if tag := r.URL.Query().Get("tag"); tag != "" {
		ref += ":" + tag
	}
	st, err := store.Open(s.Root)
	if err != nil {
		return err
	}
	if _, err := st.Lookup(ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = wire.NotFoundf("An image does not exist locally with the tag: %s", ref)
		}
		return NoSuchImage(ref, err)
	}
	stream := wire.NewStream(w)
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				stream.Send(wire.Progress(line))
			}
		}
		io.Copy(io.Discard, pr)
	}()
	res, err := push.Push(r.Context(), st, ref, push.Options{Out: pw})
	pw.Close()
	<-done
	if err != nil {
		stream.Send(jsonstream.Message{Error: &jsonstream.Error{Message: err.Error()}})
		return nil
	}
	tag := r.URL.Query().Get("tag")
	if tag == "" {
		tag = "latest"
	}
	aux, _ := json.Marshal(map[string]any{"Tag": tag, "Digest": res.Digest.String(), "Size": res.Size})
	raw := json.RawMessage(aux)
	stream.Send(jsonstream.Message{Progress: &jsonstream.Progress{}, Aux: &raw})
	return nil
}
