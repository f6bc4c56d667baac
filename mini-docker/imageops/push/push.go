// Package push uploads a stored image to its registry (mini-docker push,
// the API's POST /images/NAME/push). It is apart from imageops because it
// links the registry client and net/http, which the program that starts
// containers (mini-docker) does not: push runs in mini-docker-build.
package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/imageops"
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

// Options configure a push.
type Options struct {
	Registry  registry.Options // mirrors are ignored: a push goes to the named registry
	ChunkSize int64            // blobs larger than this go up in PATCH chunks of this size (default 16 MiB)
	Out       io.Writer        // Docker's progress lines
	Explain   *explain.Printer
}

// Result is what the registry stored.
type Result struct {
	Digest digest.Digest
	Size   int64
	Blobs  map[digest.Digest]string // blob → "Pushed", "Layer already exists", "Mounted from REPO"
}

// pusher is one push: the registry client and where it pushes to.
type pusher struct {
	ctx  context.Context
	c    *registry.Client
	ep   registry.Endpoint
	repo string
}

// Push uploads the stored image ref (a name with its registry,
// "127.0.0.1:5000/app:1.0") to that registry.
func Push(ctx context.Context, s *store.Store, ref string, opts Options) (*Result, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, err
	}
	img, err := imageops.Lookup(s, ref)
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
	if opts.Registry.Explain == nil {
		opts.Registry.Explain = opts.Explain
	}
	c := registry.New(opts.Registry)
	eps, err := c.Endpoints(r)
	if err != nil {
		return nil, err
	}
	p := &pusher{ctx: ctx, c: c, ep: eps[len(eps)-1], repo: r.Path}
	fmt.Fprintf(opts.Out, "The push refers to repository [%s]\n", r.FamiliarName())
	if err := c.Ping(ctx, p.ep); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	res := &Result{Blobs: map[digest.Digest]string{}}
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
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		defer resp.Body.Close() // regError reads the registry's error body
		return nil, regError(resp, "put manifest")
	}
	resp.Body.Close()
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
	e := registry.ResponseError(resp.Request, resp)
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

// do sends one request (path relative to the registry, or an absolute
// upload Location), authorized for pull+push on the repository (and
// pull on extra, for a mount).
func (p *pusher) do(method, target string, h http.Header, body func() (io.Reader, error), size int64, extra ...string) (*http.Response, error) {
	scope := "repository:" + p.repo + ":pull,push"
	for _, e := range extra {
		scope += " repository:" + e + ":pull"
	}
	return p.c.Do(p.ctx, p.ep, scope, method, target, h, body, size)
}

// startUpload opens an upload session for desc: a cross-repository
// mount from repository from when one is known (mounted: done), else a
// plain upload; it returns the session's location.
func (p *pusher) startUpload(desc ocispec.Descriptor, from string) (location string, mounted bool, err error) {
	if from != "" {
		q := url.Values{"mount": {desc.Digest.String()}, "from": {from}}
		resp, err := p.do(http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/?"+q.Encode(), nil, nil, 0, from)
		if err != nil {
			return "", false, err
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusCreated:
			return "", true, nil
		case http.StatusAccepted: // no mount: the answer is a plain upload session
			if location = resp.Header.Get("Location"); location != "" {
				return location, false, nil
			}
		}
	}
	resp, err := p.do(http.MethodPost, "/v2/"+p.repo+"/blobs/uploads/", nil, nil, 0)
	if err != nil {
		return "", false, err
	}
	if resp.StatusCode != http.StatusAccepted {
		defer resp.Body.Close() // regError reads the registry's error body
		return "", false, regError(resp, "start upload of "+desc.Digest.String())
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), false, nil
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
	location, mounted, err := p.startUpload(desc, from)
	if err != nil {
		return "", err
	}
	if mounted {
		return "Mounted from " + from, nil
	}
	open := func(off, n int64) func() (io.Reader, error) {
		return func() (io.Reader, error) {
			p, err := s.BlobPath(desc.Digest)
			if err != nil {
				return nil, err
			}
			f, err := os.Open(p)
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
			if resp.StatusCode != http.StatusAccepted {
				defer resp.Body.Close() // regError reads the registry's error body
				return "", regError(resp, "upload chunk of "+desc.Digest.String())
			}
			resp.Body.Close()
			location = resp.Header.Get("Location")
		}
		err = p.finishUpload(location, desc.Digest, nil, nil, 0, "finish upload of ")
	} else {
		h := http.Header{"Content-Type": {"application/octet-stream"}}
		err = p.finishUpload(location, desc.Digest, h, open(0, desc.Size), desc.Size, "upload ")
	}
	if err != nil {
		return "", err
	}
	return "Pushed", nil
}

// finishUpload ends an upload with the PUT that names the blob's digest
// (and carries its bytes, or the last of them; none after chunks): the
// registry answers 201 Created once the content matches it.
func (p *pusher) finishUpload(location string, d digest.Digest, h http.Header, body func() (io.Reader, error), size int64, what string) error {
	resp, err := p.do(http.MethodPut, withDigest(location, d), h, body, size)
	if err != nil {
		return err
	}
	defer resp.Body.Close() // regError reads the registry's error body
	if resp.StatusCode != http.StatusCreated {
		return regError(resp, what+d.String())
	}
	return nil
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
