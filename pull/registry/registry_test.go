package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/reference"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"`,
			"bearer", map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/ubuntu:pull"}},
		{`Basic realm="Registry Realm"`, "basic", map[string]string{"realm": "Registry Realm"}},
		{`Bearer realm=http://h/t, service=svc,error="invalid_token"`, "bearer", map[string]string{"realm": "http://h/t", "service": "svc", "error": "invalid_token"}},
		{`Bearer realm="a\"b",scope="repository:x:pull,push"`, "bearer", map[string]string{"realm": `a"b`, "scope": "repository:x:pull,push"}},
	}
	for _, tt := range tests {
		c, err := ParseChallenge(tt.in)
		if err != nil {
			t.Errorf("ParseChallenge(%q): %v", tt.in, err)
			continue
		}
		if c.Scheme != tt.scheme || fmt.Sprint(c.Params) != fmt.Sprint(tt.params) {
			t.Errorf("ParseChallenge(%q) = %s %v, want %s %v", tt.in, c.Scheme, c.Params, tt.scheme, tt.params)
		}
	}
	for _, bad := range []string{"", `Bearer realm="unterminated`, "Bearer realm"} {
		if _, err := ParseChallenge(bad); err == nil {
			t.Errorf("ParseChallenge(%q) succeeded", bad)
		}
	}
}

func TestDockerCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"auths":{"https://index.docker.io/v1/":{"auth":%q},"127.0.0.1:5000":{"auth":%q},"http://r.example:8080":{"username":"u","password":"p"}}}`,
		base64.StdEncoding.EncodeToString([]byte("hubuser:hub:pass")), base64.StdEncoding.EncodeToString([]byte("alice:secret")))
	p := dir + "/config.json"
	if err := writeFile(p, cfg); err != nil {
		t.Fatal(err)
	}
	lookup, err := LoadDockerCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]Credentials{
		"docker.io":      {"hubuser", "hub:pass"},
		"127.0.0.1:5000": {"alice", "secret"},
		"r.example:8080": {"u", "p"},
	} {
		if got, ok := lookup(host); !ok || got != want {
			t.Errorf("credentials for %s = %v %v, want %v", host, got, ok, want)
		}
	}
	if _, ok := lookup("other:1"); ok {
		t.Errorf("credentials found for an unknown host")
	}
}

// TestCredentialHelper: credsStore and credHelpers run
// docker-credential-NAME get, as docker does.
func TestCredentialHelper(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\nread server\necho \"{\\\"Username\\\":\\\"$1-user\\\",\\\"Secret\\\":\\\"pw-for-$server\\\"}\"\n"
	writeFile(bin+"/docker-credential-fake", script)
	os.Chmod(bin+"/docker-credential-fake", 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	p := t.TempDir() + "/config.json"
	writeFile(p, `{"credsStore":"fake","credHelpers":{"other:5000":"nothere"}}`)
	lookup, err := LoadDockerCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := lookup("docker.io"); !ok || c != (Credentials{"get-user", "pw-for-https://index.docker.io/v1/"}) {
		t.Errorf("docker.io through the helper = %v %v", c, ok)
	}
	if _, ok := lookup("other:5000"); ok {
		t.Errorf("a missing helper gave credentials")
	}
}

// fakeRegistry is a registry with a token server in front of it, the
// way Docker Hub works: /v2/ answers 401 with a Bearer challenge, the
// realm hands out tokens for one scope that expire, blobs can be sent
// elsewhere by redirect, and faults can be injected.
type fakeRegistry struct {
	t        *testing.T
	reg, tok *httptest.Server
	cdn      *httptest.Server

	mu            sync.Mutex
	tokens        map[string]time.Time // token → expiry
	tokenRequests int
	scopes        []string
	unauthorized  int
	expiresIn     int
	user, pass    string // when set, the token server wants them

	blob         []byte
	redirect     bool   // blobs are served by the cdn
	cdnAuth      string // the Authorization header the cdn saw
	breakAfter   int    // first blob answer stops after this many bytes
	rangeStarts  []string
	failFirst    int  // answer 503 to that many blob requests first
	noRange      bool // ignore Range headers (answer 200 with everything)
	blobRequests int
	// stallAt, when not nil, makes the first blob answer stop sending
	// once it has sent that many bytes of the blob (-1: before its
	// headers), and wait until stop is closed.
	stallAt *int
	stop    chan struct{}
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{t: t, tokens: map[string]time.Time{}, expiresIn: 60}
	f.blob = make([]byte, 300_000)
	rand.Read(f.blob)
	f.tok = httptest.NewServer(http.HandlerFunc(f.serveToken))
	f.reg = httptest.NewServer(http.HandlerFunc(f.serveRegistry))
	f.cdn = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.cdnAuth = r.Header.Get("Authorization")
		f.mu.Unlock()
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(f.blob))
	}))
	t.Cleanup(func() { f.reg.Close(); f.tok.Close(); f.cdn.Close() })
	return f
}

func (f *fakeRegistry) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenRequests++
	if r.URL.Query().Get("service") != "fake-registry" {
		http.Error(w, "wrong service", http.StatusBadRequest)
		return
	}
	if f.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
	}
	scope := r.URL.Query().Get("scope")
	f.scopes = append(f.scopes, scope)
	tok := fmt.Sprintf("tok-%d|%s", f.tokenRequests, scope)
	f.tokens[tok] = time.Now().Add(time.Duration(f.expiresIn) * time.Second)
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": f.expiresIn})
}

// authorized checks the bearer token: known, not expired, and for the
// repository of the request.
func (f *fakeRegistry) authorized(r *http.Request, repo string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	return ok && time.Now().Before(exp) && strings.HasSuffix(tok, "|repository:"+repo+":pull")
}

func (f *fakeRegistry) serveRegistry(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake-registry"`, f.tok.URL))
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !f.authorized(r, "library/app") {
		f.mu.Lock()
		f.unauthorized++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	w.Header().Del("WWW-Authenticate")
	switch {
	case strings.HasPrefix(r.URL.Path, "/v2/library/app/manifests/"):
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		io.WriteString(w, `{"schemaVersion":2,"mediaType":"`+ocispec.MediaTypeImageManifest+`"}`)
	case strings.HasPrefix(r.URL.Path, "/v2/library/app/blobs/"):
		f.mu.Lock()
		f.blobRequests++
		fail := f.failFirst > 0
		if fail {
			f.failFirst--
		}
		f.rangeStarts = append(f.rangeStarts, r.Header.Get("Range"))
		breakNow := 0
		if !fail {
			breakNow, f.breakAfter = f.breakAfter, 0
		}
		f.mu.Unlock()
		if fail {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		if f.stall(w) {
			return
		}
		if f.redirect {
			http.Redirect(w, r, f.cdn.URL+"/blob", http.StatusTemporaryRedirect)
			return
		}
		if breakNow > 0 {
			// Announce the whole blob, send part of it, drop the connection.
			w.Header().Set("Content-Length", fmt.Sprint(len(f.blob)))
			w.Write(f.blob[:breakNow])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		if f.noRange {
			w.Write(f.blob)
			return
		}
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(f.blob))
	default:
		http.NotFound(w, r)
	}
}

// stall answers the first blob request as stallAt says (once) and
// reports whether it did.
func (f *fakeRegistry) stall(w http.ResponseWriter) bool {
	f.mu.Lock()
	at := f.stallAt
	f.stallAt = nil
	f.mu.Unlock()
	if at == nil {
		return false
	}
	if *at >= 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(f.blob)))
		w.Write(f.blob[:*at])
		w.(http.Flusher).Flush()
	}
	<-f.stop
	return true
}

func (f *fakeRegistry) repo(t *testing.T, opts Options) *Repository {
	t.Helper()
	ref, err := reference.Parse(strings.TrimPrefix(f.reg.URL, "http://") + "/library/app:1")
	if err != nil {
		t.Fatal(err)
	}
	opts.RetryDelay = time.Millisecond
	r, err := New(opts).Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fakeRegistry) blobDesc() ocispec.Descriptor {
	return ocispec.Descriptor{Digest: digest.FromBytes(f.blob), Size: int64(len(f.blob))}
}

func TestTokenFlowScopeAndExpiry(t *testing.T) {
	f := newFakeRegistry(t)
	// Three seconds: the two requests below must fit in the token's life
	// even when a loaded host stalls this process (with one second, a
	// stall of one made the client fetch a second token before the
	// sleep, or send one the server had already dropped).
	f.expiresIn = 3
	repo := f.repo(t, Options{})
	ctx := context.Background()
	if _, _, err := repo.Manifest(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.FetchBlob(ctx, f.blobDesc()); err != nil {
		t.Fatal(err)
	}
	if f.tokenRequests != 1 || f.unauthorized != 0 {
		t.Errorf("after two requests: %d token requests, %d refused; want 1 token reused, 0 refused", f.tokenRequests, f.unauthorized)
	}
	if len(f.scopes) != 1 || f.scopes[0] != "repository:library/app:pull" {
		t.Errorf("scopes asked for: %q, want [repository:library/app:pull]", f.scopes)
	}
	// The token has expired: the client must notice and fetch a new one
	// instead of sending the stale one.
	time.Sleep(3100 * time.Millisecond)
	if _, _, err := repo.Manifest(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if f.tokenRequests != 2 || f.unauthorized != 0 {
		t.Errorf("after expiry: %d token requests, %d refused; want 2 and 0", f.tokenRequests, f.unauthorized)
	}
}

func TestTokenRevokedEarlyIsRenewed(t *testing.T) {
	f := newFakeRegistry(t)
	repo := f.repo(t, Options{})
	ctx := context.Background()
	if _, _, err := repo.Manifest(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.tokens = map[string]time.Time{} // the server forgets every token
	f.mu.Unlock()
	if _, _, err := repo.Manifest(ctx, "1"); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if f.tokenRequests != 2 || f.unauthorized != 1 {
		t.Errorf("%d token requests, %d refused; want 2 and 1", f.tokenRequests, f.unauthorized)
	}
}

func TestTokenWithCredentials(t *testing.T) {
	f := newFakeRegistry(t)
	f.user, f.pass = "alice", "s3cret"
	host := strings.TrimPrefix(f.reg.URL, "http://")
	ctx := context.Background()
	if _, _, err := f.repo(t, Options{}).Manifest(ctx, "1"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without credentials: %v, want a 401 from the token server", err)
	}
	creds := func(h string) (Credentials, bool) { return Credentials{"alice", "s3cret"}, h == host }
	if _, _, err := f.repo(t, Options{Credentials: creds}).Manifest(ctx, "1"); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}

func TestRedirectDropsAuthorization(t *testing.T) {
	f := newFakeRegistry(t)
	f.redirect = true
	b, err := f.repo(t, Options{}).FetchBlob(context.Background(), f.blobDesc())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, f.blob) {
		t.Errorf("blob content differs")
	}
	if f.cdnAuth != "" {
		t.Errorf("the other host received Authorization: %q", f.cdnAuth)
	}
}

func TestBlobResumesWithRange(t *testing.T) {
	f := newFakeRegistry(t)
	f.breakAfter = 100_000
	f.failFirst = 1 // and a 503 first, retried with backoff
	b, err := f.repo(t, Options{}).FetchBlob(context.Background(), f.blobDesc())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, f.blob) {
		t.Errorf("resumed blob differs")
	}
	if len(f.rangeStarts) != 3 || f.rangeStarts[1] != "" || !strings.HasPrefix(f.rangeStarts[2], "bytes=") {
		t.Errorf("Range headers of the blob requests: %q, want 503, full, then a Range resume", f.rangeStarts)
	}
}

func TestBlobResumeWithoutRangeSupport(t *testing.T) {
	f := newFakeRegistry(t)
	f.breakAfter = 123_457
	f.noRange = true // the second answer starts from byte 0 again
	b, err := f.repo(t, Options{}).FetchBlob(context.Background(), f.blobDesc())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, f.blob) {
		t.Errorf("blob differs after a resume from a server without Range support")
	}
}

func TestBlobDigestMismatch(t *testing.T) {
	f := newFakeRegistry(t)
	desc := f.blobDesc()
	f.blob[10] ^= 0xff
	_, err := f.repo(t, Options{}).FetchBlob(context.Background(), desc)
	if err == nil || !strings.Contains(err.Error(), "digest mismatch") || !strings.Contains(err.Error(), desc.Digest.String()) {
		t.Errorf("FetchBlob of an altered blob = %v, want a digest mismatch naming %s", err, desc.Digest)
	}
}

func TestPlainHTTPOnlyForLoopbackOrInsecure(t *testing.T) {
	c := New(Options{Insecure: []string{"reg.lan:5000"}})
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "127.1.2.3": true,
		"reg.lan:5000": true, "reg.lan:5001": false, "10.0.0.1:5000": false, "docker.io": false,
	} {
		if got := c.PlainHTTP(host); got != want {
			t.Errorf("PlainHTTP(%s) = %v, want %v", host, got, want)
		}
	}
	ref, _ := reference.Parse("debian")
	eps, err := New(Options{Mirrors: []string{"http://127.0.0.1:5000"}}).Endpoints(ref)
	if err != nil || len(eps) != 2 || eps[0].URL.String() != "http://127.0.0.1:5000" || eps[1].URL.String() != "https://registry-1.docker.io" {
		t.Errorf("endpoints for docker.io with a mirror = %v, %v", eps, err)
	}
}

// TestCredentialsStayWithTheEndpoint: the password kept for registry A
// goes to A alone, never to the other host B that A sends the client
// to: not with an upload's Location on B, not to the token realm B's
// 401 names after a blob redirect, not after /v2/ itself is redirected
// to B (Docker's client keys credentials and challenges by the host a
// request goes to).
func TestCredentialsStayWithTheEndpoint(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, r.Method+" "+r.URL.Path+": "+a)
		}
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/token"):
			json.NewEncoder(w).Encode(map[string]any{"token": "b-token"})
		case strings.HasPrefix(r.URL.Path, "/upload"):
			w.WriteHeader(http.StatusCreated)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="b"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(other.Close)
	pingAway := false
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" && pingAway {
			http.Redirect(w, r, other.URL+"/v2/", http.StatusFound)
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "SECRET" {
			w.Header().Set("WWW-Authenticate", `Basic realm="a"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, other.URL+"/cdn/blob", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	creds := func(h string) (Credentials, bool) { return Credentials{"alice", "SECRET"}, h == host }
	ref, err := reference.Parse(host + "/library/app:1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := New(Options{Credentials: creds, RetryDelay: time.Millisecond})
	repo, err := c.Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.FetchBlob(ctx, ocispec.Descriptor{Digest: digest.FromString("x"), Size: 1}); err == nil {
		t.Errorf("a blob redirected to a host that wants a token: fetched, want an error")
	}
	eps, _ := c.Endpoints(ref)
	resp, err := c.Do(ctx, eps[0], "repository:library/app:pull,push", http.MethodPut, other.URL+"/upload/1?digest=x", nil,
		func() (io.Reader, error) { return strings.NewReader("data"), nil }, 4)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Errorf("an upload on another host: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	pingAway = true
	repo2, err := New(Options{Credentials: creds}).Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := repo2.Manifest(ctx, "1"); err == nil || !strings.Contains(err.Error(), "credentials are not sent there") {
		t.Errorf("/v2/ redirected to a host that asks for a password: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the other host received the registry's credentials or token: %q", leaked)
	}
}

// A registry that stops sending, before its answer's headers or in the
// middle of a blob, is given up after IdleTimeout of silence: the
// request is tried again (the blob resumed from where it stopped)
// instead of holding the pull forever.
func TestStalledRegistryIsGivenUp(t *testing.T) {
	for _, at := range []int{-1, 100_000} {
		f := newFakeRegistry(t)
		f.stallAt, f.stop = &at, make(chan struct{})
		t.Cleanup(func() { close(f.stop) }) // before the servers close: they wait for their handlers
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		b, err := f.repo(t, Options{IdleTimeout: 300 * time.Millisecond}).FetchBlob(ctx, f.blobDesc())
		cancel()
		if err != nil {
			t.Fatalf("stalled at %d: FetchBlob = %v after %s, want the blob, the stalled request given up after 300ms of silence", at, err, time.Since(start).Round(time.Millisecond))
		}
		if !bytes.Equal(b, f.blob) {
			t.Errorf("stalled at %d: the blob differs", at)
		}
		if f.blobRequests != 2 {
			t.Errorf("stalled at %d: %d blob requests, want the stalled one and one more", at, f.blobRequests)
		}
	}
}
