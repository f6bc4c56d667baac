// Package wire is what every endpoint of `mini-docker serve` (package
// api and its endpoint packages) writes and reads on the wire the same
// way: JSON answers, dockerd's error shape {"message": "..."} with the
// status dockerd gives each kind of error, request bodies bounded
// before they are read, query flags read as dockerd reads them, the
// progress stream of pull, push and build, and the {id} of a
// container's path resolved through the engine.
//
// Lesson 14 (lessons/14-api.md) teaches the API.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/jsonstream"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/spec"
	"mini-docker/mini-docker/volume/local"
	"mini-docker/pull/store"
)

// MaxBody bounds a request's JSON body: a create request is a few
// kilobytes; anything bigger is refused before it is read into memory.
// (Archives, as docker cp and docker build send, are streamed, not
// bounded here.)
const MaxBody = 1 << 20

// WriteJSON writes v as the response, with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// WriteError writes dockerd's error shape, {"message": "..."}.
func WriteError(w http.ResponseWriter, status int, err error) {
	WriteJSON(w, status, common.ErrorResponse{Message: err.Error()})
}

// WriteErr writes err with the status its kind has in dockerd.
func WriteErr(w http.ResponseWriter, err error) {
	WriteError(w, StatusOf(err), err)
}

// BadRequest is an error in what the client sent (400).
type BadRequest struct{ error }

// Unwrap returns the error the client's mistake caused.
func (b BadRequest) Unwrap() error { return b.error }

// Bad marks err as the client's mistake.
func Bad(err error) error { return BadRequest{err} }

// Badf is a BadRequest with a formatted message.
func Badf(format string, args ...any) error { return BadRequest{fmt.Errorf(format, args...)} }

// Conflict is a request the container's state refuses (409).
type Conflict struct{ error }

// Conflicting marks err as a refusal by the container's state.
func Conflicting(err error) error { return Conflict{err} }

// NotFound is a 404 that is not about a container or an image.
type NotFound struct{ error }

// NotFoundf is a NotFound with a formatted message.
func NotFoundf(format string, args ...any) error { return NotFound{fmt.Errorf(format, args...)} }

// Forbidden is a request dockerd forbids (403): removing a network in
// use or one of its own.
type Forbidden struct{ error }

// Forbid marks err as forbidden.
func Forbid(err error) error { return Forbidden{err} }

// StatusOf maps the engine's errors to dockerd's status codes.
func StatusOf(err error) int {
	var (
		br  BadRequest
		nf  NotFound
		nn  *networks.NotFoundError
		fb  Forbidden
		cf  Conflict
		nsc *container.ErrNoSuchContainer
		nsi *engine.ImageNotFoundError
		run *engine.ErrRunning
		nu  *container.ErrNameInUse
		ue  *spec.UsageError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &nsc), errors.As(err, &nsi), errors.As(err, &nf), errors.As(err, &nn), errors.Is(err, local.ErrNoSuchVolume), errors.Is(err, store.ErrNotFound), errors.Is(err, engine.ErrImageNotFound):
		return http.StatusNotFound
	case errors.As(err, &run), errors.As(err, &nu), errors.As(err, &cf):
		return http.StatusConflict
	case errors.As(err, &fb):
		return http.StatusForbidden
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &br), errors.As(err, &ue):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// DecodeBody reads a JSON body into v: bad JSON and trailing data are
// the client's error, a body over MaxBody is refused with 413.
func DecodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("request body too large: over %d bytes: %w", MaxBody, err)
		}
		return Badf("malformed JSON in the request body: %v", err)
	}
	if dec.More() {
		return Badf("malformed JSON in the request body: data after the object")
	}
	return nil
}

// BoolParam reads a query flag as dockerd does: "", "0", "no", "false",
// "none" are false.
func BoolParam(r *http.Request, name string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(name))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// HandlerFunc is an endpoint that returns its failure instead of
// writing it: ServeHTTP writes a returned error in dockerd's shape, with
// the status of its kind (WriteErr). An endpoint returns an error only
// while its answer is unsent; once a stream has begun or the connection
// is hijacked, a failure is told in the stream.
type HandlerFunc func(http.ResponseWriter, *http.Request) error

// ServeHTTP runs h and writes the error it returns.
func (h HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteErr(w, err)
	}
}

// Handle adds the endpoint h to m, at pattern.
func Handle(m *http.ServeMux, pattern string, h HandlerFunc) {
	m.Handle(pattern, h)
}

// ContainerHandler answers a request about one container, as a
// HandlerFunc does.
type ContainerHandler func(http.ResponseWriter, *http.Request, *engine.Engine, *container.Container) error

// WithContainer resolves the {id} of the path (a full ID, a name or an
// ID prefix, never a path on disk) with an engine open opens, before h
// runs.
func WithContainer(open func() (*engine.Engine, error), h ContainerHandler) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := open()
		if err != nil {
			return err
		}
		ct, err := e.Find(r.PathValue("id"))
		if err != nil {
			return err
		}
		return h(w, r, e, ct)
	}
}

// ContainerRoutes returns how to add an endpoint about one container
// to m, its {id} resolved by WithContainer with open.
func ContainerRoutes(m *http.ServeMux, open func() (*engine.Engine, error)) func(pattern string, h ContainerHandler) {
	return func(pattern string, h ContainerHandler) { m.Handle(pattern, WithContainer(open, h)) }
}

// Stream is a stream of JSON messages, as pull, push and build answer
// (progress) and stats (samples): one JSON message a line, each flushed to the client as it is written.
type Stream struct {
	enc   *json.Encoder
	flush func()
}

// NewStream sends the 200 header of a JSON stream and returns it.
func NewStream(w http.ResponseWriter) *Stream {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	s := &Stream{enc: json.NewEncoder(w), flush: func() {}}
	if f, ok := w.(http.Flusher); ok {
		s.flush = f.Flush
	}
	s.flush()
	return s
}

// Send writes one message (a jsonstream.Message, or what the endpoint
// streams: stats send a StatsResponse a second).
func (s *Stream) Send(m any) {
	s.enc.Encode(m)
	s.flush()
}

// layerLine is the pull and push tools' line about one layer:
// "3f4ca61aafcd: Pull complete".
// Compiled on first use: nothing is done before main.
var layerLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{12}): (.*)$`) })

// Progress is a line of pull's or push's output as a progress message:
// a layer's line gives the layer's ID and its status, as the docker CLI
// draws one line per layer.
func Progress(line string) jsonstream.Message {
	if m := layerLine().FindStringSubmatch(line); m != nil {
		return jsonstream.Message{ID: m[1], Status: m[2]}
	}
	return jsonstream.Message{Status: line}
}
