package login

import (
	"strings"
	"testing"
)

// FuzzServerKey: the config.json key of a login's server argument is
// Docker Hub's v1 URL or a host[:port] with no path, and the key of a
// key is itself (login and logout find the same entry).
func FuzzServerKey(f *testing.F) {
	for _, seed := range []string{"127.0.0.1:5000", "https://127.0.0.1:5000/v2/", "docker.io", "index.docker.io/v1", "http://[::1]:80/x", "a/b/c", "://", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := ServerKey(s)
		if k != DockerHub && strings.Contains(k, "/") {
			t.Fatalf("ServerKey(%q) = %q has a path", s, k)
		}
		if k != DockerHub && ServerKey(k) != k {
			t.Fatalf("ServerKey(%q) = %q, but ServerKey(%q) = %q", s, k, k, ServerKey(k))
		}
	})
}
