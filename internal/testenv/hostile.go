package testenv

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// HostileRegistry is an attacker's registry for the tests: a small
// distribution API server (httptest, on 127.0.0.1) that serves whatever
// the test put in it, however crafted — a manifest whose layer digest is
// "sha256:../../x", a config announced at 300 MB, a blob that never
// ends — and counts what it was asked for and what it sent.
//
//	GET /v2/                                  200
//	GET /v2/<repo>/manifests/<tag or digest>  what Manifest stored
//	GET /v2/<repo>/blobs/<anything>           what Blob or BlobFunc stored
type HostileRegistry struct {
	Addr string // 127.0.0.1:PORT: a reference is Addr + "/repo:tag"

	srv       *httptest.Server
	mu        sync.Mutex
	manifests map[string]hostileManifest
	blobs     map[string]http.HandlerFunc
	requests  map[string]int   // by path
	sent      map[string]int64 // body bytes by path
}

type hostileManifest struct {
	mediaType string
	body      []byte
	status    int // 0: 200
}

// NewHostileRegistry starts a hostile registry, stopped at the end of t.
func NewHostileRegistry(t testing.TB) *HostileRegistry {
	h := &HostileRegistry{manifests: map[string]hostileManifest{}, blobs: map[string]http.HandlerFunc{},
		requests: map[string]int{}, sent: map[string]int64{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	h.Addr = strings.TrimPrefix(h.srv.URL, "http://")
	return h
}

func (h *HostileRegistry) serve(w http.ResponseWriter, r *http.Request) {
	// RequestURI as sent: the server must see a crafted path as it came.
	path, _, _ := strings.Cut(r.RequestURI, "?")
	h.mu.Lock()
	h.requests[path]++
	h.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	defer func() {
		h.mu.Lock()
		h.sent[path] += cw.n
		h.mu.Unlock()
	}()
	if path == "/v2/" {
		return
	}
	if _, ref, ok := strings.Cut(path, "/manifests/"); ok {
		h.mu.Lock()
		m, found := h.manifests[ref]
		h.mu.Unlock()
		if !found {
			http.Error(cw, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, http.StatusNotFound)
			return
		}
		cw.Header().Set("Content-Type", m.mediaType)
		if m.status != 0 {
			cw.WriteHeader(m.status)
		}
		cw.Write(m.body)
		return
	}
	if _, ref, ok := strings.Cut(path, "/blobs/"); ok {
		h.mu.Lock()
		fn, found := h.blobs[ref]
		h.mu.Unlock()
		if found {
			fn(cw, r)
			return
		}
	}
	http.Error(cw, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}`, http.StatusNotFound)
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Manifest serves body under tag and under its own digest, with
// mediaType as Content-Type. It returns the descriptor.
func (h *HostileRegistry) Manifest(tag, mediaType string, body []byte) ocispec.Descriptor {
	d := digest.FromBytes(body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.manifests[tag] = hostileManifest{mediaType: mediaType, body: body}
	h.manifests[d.String()] = hostileManifest{mediaType: mediaType, body: body}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(body))}
}

// ManifestError answers requests for the manifest tag with status and
// body (a distribution error document, or anything else).
func (h *HostileRegistry) ManifestError(tag string, status int, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.manifests[tag] = hostileManifest{"application/json", body, status}
}

// ManifestJSON marshals m (a manifest or an index) and serves it as Manifest does.
func (h *HostileRegistry) ManifestJSON(tag, mediaType string, m any) ocispec.Descriptor {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return h.Manifest(tag, mediaType, b)
}

// Blob serves body under its digest and returns its descriptor.
func (h *HostileRegistry) Blob(mediaType string, body []byte) ocispec.Descriptor {
	d := digest.FromBytes(body)
	h.BlobFunc(d.String(), func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(body))}
}

// BlobFunc serves GET /v2/<repo>/blobs/<name> with fn; name may be any
// string, a digest or not.
func (h *HostileRegistry) BlobFunc(name string, fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.blobs[name] = fn
}

// Requests is how many requests asked for path ("/v2/evil/blobs/sha256:…").
func (h *HostileRegistry) Requests(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[path]
}

// RequestsMatching is how many requests' paths contain s.
func (h *HostileRegistry) RequestsMatching(s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.requests {
		if strings.Contains(p, s) {
			n += c
		}
	}
	return n
}

// Sent is how many body bytes the server wrote for path.
func (h *HostileRegistry) Sent(path string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sent[path]
}

// Endless writes zeros until the client stops reading or limit bytes
// are out: a blob "that never ends", to prove a client never reads more
// than it allows itself.
func Endless(limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		for n := int64(0); n < limit; n += int64(len(buf)) {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}
}
