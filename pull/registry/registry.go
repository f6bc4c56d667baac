// Package registry is a client for the distribution API v2, the HTTP API
// every image registry speaks (Docker Hub, ghcr.io, docker-registry):
//
//	GET /v2/                                   is this a registry? which auth?
//	GET /v2/<name>/manifests/<tag or digest>   the manifest (or index)
//	GET /v2/<name>/blobs/<digest>              a config or a layer
//
// Authentication is a dance: the registry answers 401 with
// "WWW-Authenticate: Bearer realm=…,service=…", the client asks the realm
// for a token with the scope "repository:<name>:pull" (anonymously, or
// with the user's password from ~/.docker/config.json) and sends it as
// "Authorization: Bearer <token>". Registries with plain passwords
// (htpasswd) answer "Basic" instead and take the password directly.
//
// Lesson 08 (lessons/08-images.md) teaches it.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/internal/idlehttp"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

// Media types of Docker's image format (the OCI ones are in ocispec;
// the layer's, which the store reads too, is store.MediaTypeDockerLayer).
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerSchema1      = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// ManifestTypes is the Accept header of a manifest request: every format
// we can read, so the registry never falls back to schema 1.
var ManifestTypes = []string{
	ocispec.MediaTypeImageIndex,
	MediaTypeDockerManifestList,
	ocispec.MediaTypeImageManifest,
	MediaTypeDockerManifest,
}

// DockerHubRegistry is where "docker.io" references are really served.
const DockerHubRegistry = "registry-1.docker.io"

// Options configure a Client.
type Options struct {
	// Mirrors are tried before Docker Hub for docker.io references, like
	// Docker's "registry-mirrors" ("http://127.0.0.1:5000").
	Mirrors []string
	// Insecure lists hosts ("host:port") that may be reached over plain
	// HTTP. Loopback hosts always may, as with Docker.
	Insecure []string
	// Credentials finds the user and password for a registry host
	// (default: none). See LoadDockerCredentials.
	Credentials func(host string) (Credentials, bool)
	// Explain prints each request and its answer (nil: silent).
	Explain *explain.Printer
	// Transport is the HTTP transport (default: http.DefaultTransport's
	// settings).
	Transport http.RoundTripper
	// Retries is how many times a failed request is tried again
	// (default 4), with exponential backoff from RetryDelay (default 200ms).
	Retries    int
	RetryDelay time.Duration
	// IdleTimeout is how long a connection to a registry may stay silent
	// while the client waits for an answer or reads one (default
	// DefaultIdleTimeout), with the default Transport: a registry that
	// stops sending fails the request (retried, and a blob resumed, as
	// any broken connection) instead of holding the pull forever. Every
	// byte that comes, and every request sent, restarts the clock.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout is Options.IdleTimeout's default.
const DefaultIdleTimeout = idlehttp.DefaultIdle

// Client talks to registries. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client

	mu     sync.Mutex
	tokens map[string]token     // by endpoint+scope
	chall  map[string]Challenge // by endpoint: what /v2/ asked for
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Retries == 0 {
		opts.Retries = 4
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 200 * time.Millisecond
	}
	if opts.Credentials == nil {
		opts.Credentials = func(string) (Credentials, bool) { return Credentials{}, false }
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	tr := opts.Transport
	if tr == nil {
		t := idlehttp.Transport(opts.IdleTimeout)
		t.MaxIdleConnsPerHost = 8
		t.DisableCompression = true // layers are compressed already; keep bytes as the digest names them
		tr = t
	}
	c := &Client{opts: opts, tokens: map[string]token{}, chall: map[string]Challenge{}}
	c.http = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c
}

// checkRedirect follows redirects (blob downloads are often sent to a
// CDN or object store) but never carries the registry's Authorization
// header to another host: the token is for the registry alone.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	c.opts.Explain.Note("redirected to %s%s", req.URL.Redacted(), map[bool]string{true: " (Authorization header dropped: another host)", false: ""}[req.URL.Host != via[0].URL.Host])
	return nil
}

// sameOrigin reports whether u is on the endpoint base's scheme and host
// (its credentials and tokens may go there).
func sameOrigin(u, base *url.URL) bool {
	return u.Host == base.Host && u.Scheme == base.Scheme
}

// Endpoint is one place a repository can be fetched from: a mirror or
// the registry itself.
type Endpoint struct {
	URL  *url.URL // scheme and host, "https://registry-1.docker.io"
	Host string   // the host credentials are looked up for
}

// Endpoints returns where ref's repository is served, in the order to
// try them: the mirrors for docker.io, then the registry.
func (c *Client) Endpoints(ref reference.Reference) ([]Endpoint, error) {
	var eps []Endpoint
	host := ref.Domain
	if host == reference.DefaultDomain {
		for _, m := range c.opts.Mirrors {
			u, err := url.Parse(m)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("registry mirror %q: not a URL like https://mirror.example.com", m)
			}
			eps = append(eps, Endpoint{URL: &url.URL{Scheme: u.Scheme, Host: u.Host}, Host: u.Host})
		}
		host = DockerHubRegistry
	}
	scheme := "https"
	if c.PlainHTTP(host) {
		scheme = "http"
	}
	return append(eps, Endpoint{URL: &url.URL{Scheme: scheme, Host: host}, Host: ref.Domain}), nil
}

// PlainHTTP reports whether host may be reached without TLS: loopback
// (the traffic never leaves the machine) or named in the insecure list.
func (c *Client) PlainHTTP(host string) bool {
	for _, h := range c.opts.Insecure {
		if h == host {
			return true
		}
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// Error is an error answer of a registry, with its own error code
// (distribution's errors: MANIFEST_UNKNOWN, BLOB_UNKNOWN, UNAUTHORIZED…).
type Error struct {
	Method, URL string
	Status      int
	Code        string
	Message     string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NotFound reports whether the registry said the thing does not exist.
func (e *Error) NotFound() bool { return e.Status == http.StatusNotFound }

// printable makes text the registry wrote safe to print in our one-line
// error: control characters (a newline that forges a second line, an
// escape sequence that rewrites the terminal) become '?', and it is cut
// at max runes.
func printable(text string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range text {
		if n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// ResponseError reads an error answer to req: its status and the first
// of the errors its JSON body lists ({"errors":[{"code":…,"message":…}]}).
func ResponseError(req *http.Request, resp *http.Response) *Error {
	e := &Error{Method: req.Method, URL: req.URL.Redacted(), Status: resp.StatusCode}
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Message = printable(body.Errors[0].Code, 64), printable(body.Errors[0].Message, 300)
	}
	return e
}

// Ping sends GET /v2/ and remembers the authentication the registry asks
// for. It is the first request of every pull, as in Docker.
func (c *Client) Ping(ctx context.Context, ep Endpoint) error {
	c.mu.Lock()
	_, done := c.chall[ep.URL.String()]
	c.mu.Unlock()
	if done {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL.String()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var ch Challenge
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		if !sameOrigin(resp.Request.URL, ep.URL) {
			// Redirected, and the other host asks for a password: the
			// endpoint's credentials are for the endpoint alone.
			return fmt.Errorf("GET %s/v2/: redirected to %s, which asks for authentication: %s's credentials are not sent there", ep.URL, resp.Request.URL.Redacted(), ep.Host)
		}
		if ch, err = ParseChallenge(resp.Header.Get("WWW-Authenticate")); err != nil {
			return fmt.Errorf("GET %s/v2/: %w", ep.URL, err)
		}
	default:
		return ResponseError(req, resp)
	}
	c.mu.Lock()
	c.chall[ep.URL.String()] = ch
	c.mu.Unlock()
	return nil
}

// authorize sets the Authorization header the endpoint wants for scope,
// fetching a bearer token when needed.
func (c *Client) authorize(ctx context.Context, req *http.Request, ep Endpoint, scope string, fresh bool) error {
	c.mu.Lock()
	ch := c.chall[ep.URL.String()]
	c.mu.Unlock()
	switch ch.Scheme {
	case "":
		return nil
	case "basic":
		cr, ok := c.opts.Credentials(ep.Host)
		if !ok {
			return &Error{Method: req.Method, URL: req.URL.Redacted(), Status: http.StatusUnauthorized,
				Code: "UNAUTHORIZED", Message: "the registry wants a password: run `docker login " + ep.Host + "` or add it to " + DockerConfigPath()}
		}
		req.SetBasicAuth(cr.Username, cr.Password)
		return nil
	case "bearer":
		tok, err := c.token(ctx, ep, ch, scope, fresh)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	return fmt.Errorf("registry %s: unsupported authentication scheme %q", ep.URL.Host, ch.Scheme)
}

// token returns a bearer token for scope, from the cache while it is
// valid, or fetched from the challenge's realm.
func (c *Client) token(ctx context.Context, ep Endpoint, ch Challenge, scope string, fresh bool) (string, error) {
	key := ep.URL.String() + " " + scope
	c.mu.Lock()
	t, ok := c.tokens[key]
	c.mu.Unlock()
	if ok && !fresh && time.Now().Before(t.expires) {
		return t.value, nil
	}
	realm, err := url.Parse(ch.Params["realm"])
	if err != nil || realm.Host == "" {
		return "", fmt.Errorf("registry %s: bearer challenge without a usable realm %q", ep.URL.Host, ch.Params["realm"])
	}
	q := realm.Query()
	if s := ch.Params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Del("scope")
	for _, sc := range strings.Fields(scope) {
		q.Add("scope", sc)
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", err
	}
	if cr, ok := c.opts.Credentials(ep.Host); ok {
		req.SetBasicAuth(cr.Username, cr.Password)
	}
	resp, err := c.send(req)
	if err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch token: %w", ResponseError(req, resp))
	}
	var tr tokenResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("fetch token from %s: %w", realm.Host, err)
	}
	if tr.Token == "" {
		tr.Token = tr.AccessToken
	}
	if tr.Token == "" {
		return "", fmt.Errorf("fetch token from %s: the answer holds no token", realm.Host)
	}
	// The token spec: without expires_in, a token lasts 60 seconds.
	// Count from when we asked, so clock skew with issued_at never matters.
	life := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 {
		life = 60 * time.Second
	}
	c.mu.Lock()
	c.tokens[key] = token{value: tr.Token, expires: time.Now().Add(life)}
	c.mu.Unlock()
	c.opts.Explain.Note("token for %q valid %s", scope, life)
	return tr.Token, nil
}

// send does one HTTP round trip, retrying transient failures (network
// errors, 429, 5xx) with exponential backoff and jitter, and explains it.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	var lastErr error
	delay := c.opts.RetryDelay
	retries := c.opts.Retries
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		// A write is sent once: an upload session may have taken part of
		// it, and its body cannot be read again here.
		retries = 0
	}
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			c.opts.Explain.Note("retrying in %s: %v", delay, lastErr)
			select {
			case <-req.Context().Done():
				return nil, req.Context().Err()
			case <-time.After(delay + time.Duration(rand.Int64N(int64(delay)/2+1))):
			}
			delay *= 2
		}
		c.explainRequest(req)
		resp, err := c.http.Do(req)
		if err != nil {
			if req.Context().Err() != nil {
				return nil, err
			}
			lastErr = err
			continue
		}
		c.explainResponse(resp)
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && attempt < retries {
			lastErr = ResponseError(req, resp)
			resp.Body.Close()
			continue
		}
		return resp, nil
	}
	return nil, lastErr // only a network error gets here: the last error answer is returned as it is
}

func (c *Client) explainRequest(req *http.Request) {
	if !c.opts.Explain.Enabled() {
		return
	}
	argv := []string{"curl", "-sS"}
	if req.Method != http.MethodGet {
		argv = append(argv, "-X", req.Method)
	}
	for _, h := range []string{"Accept", "Range", "Content-Type", "Content-Range"} {
		if v := req.Header.Get(h); v != "" {
			argv = append(argv, "-H", h+": "+v)
		}
	}
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		if scheme == "Basic" {
			u, _, _ := req.BasicAuth()
			argv = append(argv, "-u", u+":$PASSWORD")
		} else {
			argv = append(argv, "-H", "Authorization: "+scheme+" $TOKEN")
		}
	}
	if req.Body != nil && req.Body != http.NoBody {
		argv = append(argv, "--data-binary", "@-")
	}
	argv = append(argv, req.URL.Redacted())
	c.opts.Explain.Argv(argv...)
}

func (c *Client) explainResponse(resp *http.Response) {
	if !c.opts.Explain.Enabled() {
		return
	}
	s := resp.Status
	if ct := resp.Header.Get("Content-Type"); ct != "" && resp.StatusCode < 300 {
		s += ", " + ct
	}
	if resp.ContentLength >= 0 && resp.StatusCode < 300 {
		s += ", " + strconv.FormatInt(resp.ContentLength, 10) + " bytes"
	}
	if w := resp.Header.Get("WWW-Authenticate"); w != "" {
		s += ", WWW-Authenticate: " + w
	}
	c.opts.Explain.Note("%s", s)
}

// Do sends one request to ep, authorized for scope, as a pull does: the
// first one pings /v2/ to learn the authentication, a bearer token is
// fetched for scope (space-separated scopes are asked for together:
// "repository:app:pull,push repository:base:pull" for a cross-repository
// mount), and on 401 it takes the new challenge, fetches a fresh token
// and tries once more. target is a path ("/v2/<name>/blobs/uploads/") or
// an absolute URL (an upload's Location). body, when not nil, opens the
// size bytes to send; it is called again for each try. The caller closes
// the response body and checks its status.
func (c *Client) Do(ctx context.Context, ep Endpoint, scope, method, target string, header http.Header, body func() (io.Reader, error), size int64) (*http.Response, error) {
	resp, _, err := c.do(ctx, ep, scope, method, target, header, body, size)
	return resp, err
}

// do is Do that also returns the request, for ResponseError.
func (c *Client) do(ctx context.Context, ep Endpoint, scope, method, target string, header http.Header, body func() (io.Reader, error), size int64) (*http.Response, *http.Request, error) {
	if err := c.Ping(ctx, ep); err != nil {
		return nil, nil, err
	}
	u, err := ep.URL.Parse(target)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			if rd, err = body(); err != nil {
				return nil, nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, nil, err
		}
		if body != nil {
			req.ContentLength = size
			if size == 0 {
				req.Body = http.NoBody
			}
		}
		for k, v := range header {
			req.Header[k] = v
		}
		// Credentials go to the endpoint alone: an upload's Location may
		// name another host (or plain http), which gets none, as in
		// Docker, whose client looks them up by the request's own host.
		own := sameOrigin(u, ep.URL)
		if own {
			if err := c.authorize(ctx, req, ep, scope, attempt > 0); err != nil {
				return nil, req, err
			}
		}
		resp, err := c.send(req)
		if err != nil {
			return nil, req, err
		}
		// A 401 from another host (a redirect's, an upload's) is an
		// answer, not a challenge to meet with the endpoint's password.
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && own && sameOrigin(resp.Request.URL, ep.URL) {
			// A challenge here may differ from /v2/'s (another scope, a
			// registry that only protects some repositories): take it.
			if ch, err := ParseChallenge(resp.Header.Get("WWW-Authenticate")); err == nil {
				c.mu.Lock()
				c.chall[ep.URL.String()] = ch
				c.mu.Unlock()
			}
			resp.Body.Close()
			continue
		}
		return resp, req, nil
	}
}

// Repository is one repository ("library/ubuntu") of a registry, with
// the endpoints it is served from.
type Repository struct {
	c         *Client
	Ref       reference.Reference
	endpoints []Endpoint
	scope     string

	mu   sync.Mutex
	used Endpoint // where the manifest came from; blobs come from there too
}

// Repository returns ref's repository.
func (c *Client) Repository(ref reference.Reference) (*Repository, error) {
	eps, err := c.Endpoints(ref)
	if err != nil {
		return nil, err
	}
	return &Repository{c: c, Ref: ref, endpoints: eps, scope: "repository:" + ref.Path + ":pull", used: eps[len(eps)-1]}, nil
}

// Manifest fetches the manifest (or index) tagOrDigest and returns its
// bytes and a descriptor (media type, digest, size). The digest is
// computed from the bytes; for a digest reference it must match.
func (r *Repository) Manifest(ctx context.Context, tagOrDigest string) ([]byte, ocispec.Descriptor, error) {
	var lastErr error
	for i, ep := range r.endpoints {
		b, desc, err := r.manifestFrom(ctx, ep, tagOrDigest)
		if err == nil {
			r.mu.Lock()
			r.used = ep
			r.mu.Unlock()
			return b, desc, nil
		}
		lastErr = err
		if i < len(r.endpoints)-1 {
			r.c.opts.Explain.Note("mirror %s failed (%v): trying the next endpoint", ep.URL, err)
		}
	}
	return nil, ocispec.Descriptor{}, lastErr
}

func (r *Repository) manifestFrom(ctx context.Context, ep Endpoint, tagOrDigest string) ([]byte, ocispec.Descriptor, error) {
	h := http.Header{"Accept": {strings.Join(ManifestTypes, ", ")}}
	resp, req, err := r.c.do(ctx, ep, r.scope, http.MethodGet, "/v2/"+r.Ref.Path+"/manifests/"+tagOrDigest, h, nil, 0)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, ocispec.Descriptor{}, ResponseError(req, resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, store.MaxSmallBlob+1))
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	if len(b) > store.MaxSmallBlob {
		return nil, ocispec.Descriptor{}, fmt.Errorf("GET %s: manifest larger than 4 MiB", req.URL.Redacted())
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(b, &probe) == nil && probe.MediaType != "" && (mt == "" || mt == "application/json" || mt == "text/plain") {
		mt = probe.MediaType
	}
	desc := ocispec.Descriptor{MediaType: strings.TrimSpace(mt), Digest: digest.FromBytes(b), Size: int64(len(b))}
	if d, err := digest.Parse(tagOrDigest); err == nil {
		if d != desc.Digest {
			return nil, desc, fmt.Errorf("manifest %s: content hashes to %s: digest mismatch", d, desc.Digest)
		}
		r.c.opts.Explain.Note("digest %s verified: the manifest's bytes hash to the digest asked for", d)
	} else if hd := resp.Header.Get("Docker-Content-Digest"); hd != "" && hd != desc.Digest.String() {
		return nil, desc, fmt.Errorf("manifest %s: content hashes to %s but the registry says %s: digest mismatch", tagOrDigest, desc.Digest, hd)
	}
	return b, desc, nil
}

// FetchBlob reads a small blob (a config) whole and verifies it. A
// descriptor announcing more than store.MaxSmallBlob (4 MiB) is refused before the
// request: the size comes from the manifest, which the registry wrote.
func (r *Repository) FetchBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size < 0 || desc.Size > store.MaxSmallBlob {
		return nil, fmt.Errorf("blob %s: %d bytes announced, a config may have at most %d (4 MiB)", desc.Digest, desc.Size, store.MaxSmallBlob)
	}
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob %q: %w", desc.Digest, err)
	}
	rc, err := r.OpenBlob(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, err
	}
	got := digest.FromBytes(b)
	if int64(len(b)) != desc.Size || got != desc.Digest {
		return nil, fmt.Errorf("blob %s: got %d bytes hashing to %s, want %d bytes: digest mismatch", desc.Digest, len(b), got, desc.Size)
	}
	r.c.opts.Explain.Note("digest %s verified (%d bytes)", desc.Digest, len(b))
	return b, nil
}

// OpenBlob streams blob desc from byte offset on. A connection that
// breaks midway is picked up again with a Range request from where it
// stopped. The caller verifies the digest of what it reads.
func (r *Repository) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	// The digest goes into the URL: only a digest may.
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("fetch blob %q: %w", desc.Digest, err)
	}
	br := &blobReader{r: r, ctx: ctx, desc: desc, offset: offset}
	if err := br.open(); err != nil {
		return nil, err
	}
	return br, nil
}

type blobReader struct {
	r       *Repository
	ctx     context.Context
	desc    ocispec.Descriptor
	offset  int64
	body    io.ReadCloser
	resumes int
}

func (b *blobReader) open() error {
	r := b.r
	r.mu.Lock()
	ep := r.used
	r.mu.Unlock()
	h := http.Header{}
	if b.offset > 0 {
		h.Set("Range", fmt.Sprintf("bytes=%d-", b.offset))
	}
	resp, req, err := r.c.do(b.ctx, ep, r.scope, http.MethodGet, "/v2/"+r.Ref.Path+"/blobs/"+b.desc.Digest.String(), h, nil, 0)
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", b.desc.Digest, err)
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && b.offset > 0:
	case resp.StatusCode == http.StatusOK:
		// No range support: skip what we already have.
		if _, err := io.CopyN(io.Discard, resp.Body, b.offset); err != nil {
			resp.Body.Close()
			return fmt.Errorf("fetch blob %s: %w", b.desc.Digest, err)
		}
	default:
		defer resp.Body.Close()
		return fmt.Errorf("fetch blob %s: %w", b.desc.Digest, ResponseError(req, resp))
	}
	b.body = resp.Body
	return nil
}

// Read reads the blob, resuming with a Range request (at most 5 times
// per blob) when the connection fails or ends before desc.Size bytes.
func (b *blobReader) Read(p []byte) (int, error) {
	for {
		n, err := b.body.Read(p)
		b.offset += int64(n)
		if err == nil || n > 0 {
			return n, nil
		}
		if err == io.EOF && (b.desc.Size < 0 || b.offset >= b.desc.Size) {
			return 0, io.EOF
		}
		if b.ctx.Err() != nil || b.resumes >= 5 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("fetch blob %s at byte %d: %w", b.desc.Digest, b.offset, err)
		}
		b.resumes++
		b.r.c.opts.Explain.Note("blob %s broke off at byte %d (%v): resuming with a Range request", store.ShortID(b.desc.Digest), b.offset, err)
		b.body.Close()
		if oerr := b.open(); oerr != nil {
			return 0, oerr
		}
	}
}

func (b *blobReader) Close() error { return b.body.Close() }
