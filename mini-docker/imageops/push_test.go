package imageops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/imageops/push"
	"mini-docker/pull/registry"
	"mini-docker/pull/store"
)

// tokenGate puts the bearer-token dance in front of the real registry:
// requests without a token get 401 and a challenge naming /token, which
// hands out one token per scope; the gate forwards only requests whose
// token was issued for a scope that allows them.
type tokenGate struct {
	mu     sync.Mutex
	scopes map[string][]string // token → scopes
	asked  []string
}

func (g *tokenGate) handler(upstream *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			g.mu.Lock()
			tok := "tok" + string(rune('a'+len(g.scopes)))
			g.scopes[tok] = r.URL.Query()["scope"]
			g.asked = append(g.asked, strings.Join(r.URL.Query()["scope"], " "))
			g.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
			return
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		g.mu.Lock()
		scopes := g.scopes[tok]
		g.mu.Unlock()
		if r.URL.Path != "/v2/" && !allows(scopes, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="gate"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// allows checks a request against the token's scopes: reads need pull,
// writes need push on the request's repository.
func allows(scopes []string, r *http.Request) bool {
	repo := strings.TrimPrefix(r.URL.Path, "/v2/")
	for _, cut := range []string{"/blobs/", "/manifests/"} {
		if i := strings.Index(repo, cut); i >= 0 {
			repo = repo[:i]
		}
	}
	need := "pull"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		need = "push"
	}
	for _, s := range scopes {
		parts := strings.Split(s, ":")
		if len(parts) == 3 && parts[1] == repo && strings.Contains(parts[2], need) {
			return true
		}
	}
	return false
}

// TestPushWithBearerToken: push asks the token server for "pull,push" on
// the target repository and "pull" on the one it mounts from.
func TestPushWithBearerToken(t *testing.T) {
	e := newEnv(t)
	up, _ := url.Parse("http://" + e.reg.Addr)
	g := &tokenGate{scopes: map[string][]string{}}
	srv := httptest.NewServer(g.handler(up))
	defer srv.Close()
	gate := strings.TrimPrefix(srv.URL, "http://")

	s, err := store.Open(e.root)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageops.Lookup(s, e.debian)
	if err != nil {
		t.Fatal(err)
	}
	// The base image under the gate's name (a source to mount from), and
	// a child image with one more (empty) layer to push.
	if _, err := imageops.Tag(s, img, gate+"/library/debian:bookworm", nil); err != nil {
		t.Fatal(err)
	}
	target := gate + "/mdtest/token:1"
	if _, err := imageops.Tag(s, img, target, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := push.Push(context.Background(), s, target, push.Options{Out: &out, Registry: registry.Options{}})
	if err != nil {
		t.Fatalf("push through the token gate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), ": Mounted from library/debian") {
		t.Errorf("the base layer was not mounted from library/debian")
	}
	asked := strings.Join(g.asked, "\n")
	t.Logf("push:\n%s\nscopes asked for:\n%s", out.String(), asked)
	if !strings.Contains(asked, "repository:mdtest/token:pull,push") {
		t.Errorf("scopes asked for:\n%s", asked)
	}
	if !strings.Contains(asked, "repository:library/debian:pull") {
		t.Errorf("mounted without asking for pull on the source:\n%s", asked)
	}
	if res.Digest != img.Digest {
		t.Errorf("pushed manifest %s, want %s", res.Digest, img.Digest)
	}
}
