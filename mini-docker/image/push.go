package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/pull/reference"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
)

// A push is a pull backwards, by the distribution API:
//
//	HEAD /v2/<name>/blobs/<digest>                      does the registry have it? (200: skip)
//	POST /v2/<name>/blobs/uploads/?mount=<d>&from=<repo> borrow it from another repository (201)
//	POST /v2/<name>/blobs/uploads/                      start an upload (202, Location: …)
//	PUT  <location>?digest=<d>           (body: blob)   monolithic upload
//	PATCH <location> (Content-Range)     (body: chunk)  chunked upload, then PUT ?digest=
//	PUT  /v2/<name>/manifests/<tag>                     last: the manifest names only blobs the registry has
//
// Authentication is pull's: the same WWW-Authenticate challenge, the same
// ~/.docker/config.json credentials, with the scope "pull,push".

// PushOptions configure a push.
type PushOptions struct {
	Registry  registry.Options // mirrors are ignored: a push goes to the named registry
	ChunkSize int64            // blobs larger than this go up in PATCH chunks of this size (default 16 MiB)
	Out       io.Writer        // Docker's progress lines
	Explain   *explain.Printer
}

// PushResult is what the registry stored.
type PushResult struct {
	Digest digest.Digest
	Size   int64
	Blobs  map[digest.Digest]string // blob → "Pushed", "Layer already exists", "Mounted from REPO"
}

// pusher holds a push's connection state: endpoint, auth, tokens.
type pusher struct {
	ctx    context.Context
	hc     *http.Client
	base   *url.URL
	host   string
	repo   string
	creds  func(string) (registry.Credentials, bool)
	ex     *explain.Printer
	mu     sync.Mutex
	chall  registry.Challenge
	tokens map[string]string
}

// Push uploads the stored image ref (a name with its registry,
// "127.0.0.1:5000/app:1.0") to that registry.
func Push(ctx context.Context, s *store.Store, ref string, opts PushOptions) (*PushResult, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, err
	}
	img, err := Lookup(s, ref)
	if err != nil {
		return nil, err
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 16 << 20
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Registry.Credentials == nil {
		if creds, err := registry.LoadDockerCredentials(registry.DockerConfigPath()); err == nil {
			opts.Registry.Credentials = creds
		}
	}
	opts.Registry.Mirrors = nil
	c := registry.New(opts.Registry)
	eps, err := c.Endpoints(r)
	if err != nil {
		return nil, err
	}
	ep := eps[len(eps)-1]
	p := &pusher{ctx: ctx, hc: &http.Client{Timeout: 10 * time.Minute}, base: ep.URL, host: ep.Host, repo: r.Path,
		creds: opts.Registry.Credentials, ex: opts.Explain, tokens: map[string]string{}}
	if p.creds == nil {
		p.creds = func(string) (registry.Credentials, bool) { return registry.Credentials{}, false }
	}
	fmt.Fprintf(opts.Out, "The push refers to repository [%s]\n", r.FamiliarName())
	if err := p.ping(); err != nil {
		return nil, err
	}
	res := &PushResult{Blobs: map[digest.Digest]string{}}
	sources := mountSources(s, r)
	// Layers top first, as docker push lists them, then the config.
	for i := len(img.Manifest.Layers) - 1; i >= 0; i-- {
		l := img.Manifest.Layers[i]
		status, err := p.pushBlob(s, l, sources[l.Digest], opts.ChunkSize)
		if err != nil {
			return nil, err
		}
		res.Blobs[l.Digest] = status
		fmt.Fprintf(opts.Out, "%s: %s\n", l.Digest.Encoded()[:12], status)
	}
	if _, err := p.pushBlob(s, img.Manifest.Config, "", opts.ChunkSize); err != nil {
		return nil, err
	}
	tag := r.Tag
	if tag == "" {
		tag = r.Digest.String()
	}
	h := http.Header{"Content-Type": {ocispec.MediaTypeImageManifest}}
	resp, err := p.do(http.MethodPut, "/v2/"+p.repo+"/manifests/"+tag, h, bytesBody(img.ManifestRaw), int64(len(img.ManifestRaw)))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, regError(resp, "put manifest")
	}
	res.Digest, res.Size = img.Digest, int64(len(img.ManifestRaw))
	fmt.Fprintf(opts.Out, "%s: digest: %s size: %d\n", tag, img.Digest, len(img.ManifestRaw))
	return res, nil
}

// mountSources finds, for each blob, another repository of the same
// registry that holds it (by the images of the store that came from
// there): the registry can link it without an upload.
func mountSources(s *store.Store, target reference.Reference) map[digest.Digest]string {
	out := map[digest.Digest]string{}
	list, err := s.List()
	if err != nil {
		return out
	}
	for _, si := range list {
		r, err := reference.Parse(si.Ref)
		if err != nil || r.Domain != target.Domain || r.Path == target.Path {
			continue
		}
		for _, l := range si.Manifest.Layers {
			if _, ok := out[l.Digest]; !ok {
				out[l.Digest] = r.Path
			}
		}
	}
	return out
}

func bytesBody(b []byte) func() (io.Reader, error) {
	return func() (io.Reader, error) { return bytes.NewReader(b), nil }
}

// regError turns an error answer into *registry.Error, with the
// registry's own code (DENIED, UNAUTHORIZED, MANIFEST_INVALID, ...).
func regError(resp *http.Response, what string) error {
	e := &registry.Error{Method: resp.Request.Method, URL: resp.Request.URL.Redacted(), Status: resp.StatusCode}
	var body struct {
		Errors []struct{ Code, Message string }
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Message = body.Errors[0].Code, body.Errors[0].Message
	}
	// A HEAD answer has no body: the status says it (distribution's
	// codes for 401 and 403).
	switch {
	case e.Code != "":
	case e.Status == http.StatusUnauthorized:
		e.Code, e.Message = "UNAUTHORIZED", "authentication required"
	case e.Status == http.StatusForbidden:
		e.Code, e.Message = "DENIED", "requested access to the resource is denied"
	}
	return fmt.Errorf("%s: %w", what, e)
}

// ping sends GET /v2/ and keeps the challenge (none, Basic or Bearer).
func (p *pusher) ping() error {
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodGet, p.base.String()+"/v2/", nil)
	p.explain(req)
	resp, err := p.hc.Do(req)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		ch, err := registry.ParseChallenge(resp.Header.Get("WWW-Authenticate"))
		if err != nil {
			return err
		}
		p.chall = ch
	default:
		return regError(resp, "ping registry")
	}
	return nil
}

func (p *pusher) explain(req *http.Request) {
	if p.ex.Enabled() {
		argv := []string{"curl", "-sS"}
		if req.Method != http.MethodGet {
			argv = append(argv, "-X", req.Method)
		}
		if ct := req.Header.Get("Content-Type"); ct != "" {
			argv = append(argv, "-H", "Content-Type: "+ct)
		}
		if cr := req.Header.Get("Content-Range"); cr != "" {
			argv = append(argv, "-H", "Content-Range: "+cr)
		}
		if a := req.Header.Get("Authorization"); a != "" {
			scheme, _, _ := strings.Cut(a, " ")
			argv = append(argv, "-H", "Authorization: "+scheme+" $TOKEN")
		}
		if req.Body != nil && req.Body != http.NoBody {
			argv = append(argv, "--data-binary", "@-")
		}
		p.ex.Argv(append(argv, req.URL.Redacted())...)
	}
}

// authorize adds the Authorization header for scope.
func (p *pusher) authorize(req *http.Request, scope string, fresh bool) error {
	switch p.chall.Scheme {
	case "":
		return nil
	case "basic":
		cr, ok := p.creds(p.host)
		if !ok {
			return &registry.Error{Method: req.Method, URL: req.URL.Redacted(), Status: http.StatusUnauthorized, Code: "UNAUTHORIZED",
				Message: "the registry wants a password: run `docker login " + p.host + "`"}
		}
		req.SetBasicAuth(cr.Username, cr.Password)
		return nil
	case "bearer":
		p.mu.Lock()
		tok, ok := p.tokens[scope]
		p.mu.Unlock()
		if !ok || fresh {
			var err error
			if tok, err = p.fetchToken(scope); err != nil {
				return err
			}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	return fmt.Errorf("registry %s: unsupported authentication scheme %q", p.base.Host, p.chall.Scheme)
}

// fetchToken asks the challenge's realm for a token for scope, with the
// user's password when config.json has one (the token spec).
func (p *pusher) fetchToken(scope string) (string, error) {
	realm, err := url.Parse(p.chall.Params["realm"])
	if err != nil || realm.Host == "" {
		return "", fmt.Errorf("registry %s: bearer challenge without a usable realm", p.base.Host)
	}
	q := realm.Query()
	if sv := p.chall.Params["service"]; sv != "" {
		q.Set("service", sv)
	}
	for _, sc := range strings.Split(scope, " ") {
		q.Add("scope", sc)
	}
	realm.RawQuery = q.Encode()
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodGet, realm.String(), nil)
	if cr, ok := p.creds(p.host); ok {
		req.SetBasicAuth(cr.Username, cr.Password)
	}
	p.explain(req)
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", regError(resp, "fetch token")
	}
	var raw struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&raw); err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	tok := raw.Token
	if tok == "" {
		tok = raw.AccessToken
	}
	p.mu.Lock()
	p.tokens[scope] = tok
	p.mu.Unlock()
	return tok, nil
}

// do sends one request (path relative to the registry, or an absolute
// upload Location), authorized for pull+push on the repository (and
// pull on extra, for a mount), renewing the token once on 401.
func (p *pusher) do(method, target string, h http.Header, body func() (io.Reader, error), size int64, extra ...string) (*http.Response, error) {
	u, err := p.base.Parse(target)
	if err != nil {
		return nil, err
	}
	scope := "repository:" + p.repo + ":pull,push"
	for _, e := range extra {
		scope += " repository:" + e + ":pull"
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader = http.NoBody
		if body != nil {
			if rd, err = body(); err != nil {
				return nil, err
			}
		}
		req, err := http.NewRequestWithContext(p.ctx, method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
		for k, v := range h {
			req.Header[k] = v
		}
		if err := p.authorize(req, scope, attempt > 0); err != nil {
			return nil, err
		}
		p.explain(req)
		resp, err := p.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
		}
		p.ex.Note("%s", resp.Status)
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if ch, err := registry.ParseChallenge(resp.Header.Get("WWW-Authenticate")); err == nil {
				p.chall = ch
			}
			resp.Body.Close()
			continue
		}
		return resp, nil
	}
}

// pushBlob uploads one blob unless the registry has it, mounting it from
// repository from when one is known.
func (p *pusher) pushBlob(s *store.Store, desc ocispec.Descriptor, from string, chunk int64) (string, error) {
	blobPath := "/v2/" + p.repo + "/blobs/" + desc.Digest.String()
	resp, err := p.do(http.MethodHead, blobPath, nil, nil, 0)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return "Layer already exists", nil
	}
	if resp.StatusCode != http.StatusNotFound {
		return "", regError(resp, "check blob "+desc.Digest.String())
	}
	var location string
	if from != "" {
		q := url.Values{"mount": {desc.Digest.String()}, "from": {from}}
		resp, err := p.do(http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/?"+q.Encode(), nil, nil, 0, from)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusCreated:
			return "Mounted from " + from, nil
		case http.StatusAccepted: // no mount: the answer is a plain upload session
			location = resp.Header.Get("Location")
		}
	}
	if location == "" {
		resp, err := p.do(http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/", nil, nil, 0)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return "", regError(resp, "start upload of "+desc.Digest.String())
		}
		location = resp.Header.Get("Location")
	}
	open := func(off, n int64) func() (io.Reader, error) {
		return func() (io.Reader, error) {
			f, err := os.Open(s.BlobPath(desc.Digest))
			if err != nil {
				return nil, err
			}
			return &fileSection{io.NewSectionReader(f, off, n), f}, nil
		}
	}
	if desc.Size > chunk {
		for off := int64(0); off < desc.Size; off += chunk {
			n := min(chunk, desc.Size-off)
			h := http.Header{"Content-Type": {"application/octet-stream"}, "Content-Range": {fmt.Sprintf("%d-%d", off, off+n-1)}}
			resp, err := p.do(http.MethodPatch, location, h, open(off, n), n)
			if err != nil {
				return "", err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				return "", regError(resp, "upload chunk of "+desc.Digest.String())
			}
			location = resp.Header.Get("Location")
		}
		resp, err := p.do(http.MethodPut, withDigest(location, desc.Digest), nil, nil, 0)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return "", regError(resp, "finish upload of "+desc.Digest.String())
		}
		return "Pushed", nil
	}
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err = p.do(http.MethodPut, withDigest(location, desc.Digest), h, open(0, desc.Size), desc.Size)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", regError(resp, "upload "+desc.Digest.String())
	}
	return "Pushed", nil
}

// withDigest adds digest=D to an upload location (which may have a query).
func withDigest(location string, d digest.Digest) string {
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	return location + sep + "digest=" + url.QueryEscape(d.String())
}

// fileSection reads part of a file and closes it at EOF.
type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (s *fileSection) Read(b []byte) (int, error) {
	n, err := s.SectionReader.Read(b)
	if err == io.EOF {
		s.f.Close()
	}
	return n, err
}
