package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Challenge is one parsed WWW-Authenticate header: the scheme the
// registry wants ("Bearer" or "Basic") and its parameters.
//
//	WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"
type Challenge struct {
	Scheme string            // "bearer" or "basic", lower case
	Params map[string]string // realm, service, scope, error
}

// ParseChallenge parses a WWW-Authenticate header value (RFC 7235:
// scheme, then comma-separated key=value pairs, values quoted or not).
func ParseChallenge(header string) (Challenge, error) {
	header = strings.TrimSpace(header)
	scheme, rest, _ := strings.Cut(header, " ")
	if scheme == "" {
		return Challenge{}, fmt.Errorf("empty WWW-Authenticate header")
	}
	c := Challenge{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
	s := strings.TrimSpace(rest)
	for s != "" {
		key, after, ok := strings.Cut(s, "=")
		if !ok {
			return c, fmt.Errorf("WWW-Authenticate %q: parameter without '='", header)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		after = strings.TrimLeft(after, " ")
		var value string
		if strings.HasPrefix(after, `"`) {
			// Quoted string: backslash escapes the next character.
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			if i >= len(after) {
				return c, fmt.Errorf("WWW-Authenticate %q: unterminated quoted value", header)
			}
			value, s = b.String(), after[i+1:]
		} else {
			value, s, _ = strings.Cut(after, ",")
			value = strings.TrimSpace(value)
			s = "," + s
		}
		c.Params[key] = value
		s = strings.TrimSpace(s)
		s = strings.TrimPrefix(s, ",")
		s = strings.TrimSpace(s)
	}
	return c, nil
}

// Credentials are a user name and password (or identity token) for one
// registry host.
type Credentials struct {
	Username, Password string
}

// dockerConfig is the part of ~/.docker/config.json we read: what
// `docker login` wrote.
type dockerConfig struct {
	Auths map[string]struct {
		Auth     string `json:"auth"` // base64("user:password")
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`  // "pass", "secretservice", "desktop"…
	CredHelpers map[string]string `json:"credHelpers"` // host → helper
}

// DockerConfigPath is $DOCKER_CONFIG/config.json, or ~/.docker/config.json.
func DockerConfigPath() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "config.json")
}

// LoadDockerCredentials reads the auths of a Docker config file and
// returns a lookup by registry host. A missing file means no credentials.
func LoadDockerCredentials(path string) (func(host string) (Credentials, bool), error) {
	creds := map[string]Credentials{}
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	if err == nil {
		var cfg dockerConfig
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for key, a := range cfg.Auths {
			c := Credentials{Username: a.Username, Password: a.Password}
			if a.Auth != "" {
				raw, err := base64.StdEncoding.DecodeString(a.Auth)
				if err != nil {
					return nil, fmt.Errorf("parse %s: auth for %s: %w", path, key, err)
				}
				c.Username, c.Password, _ = strings.Cut(string(raw), ":")
			}
			creds[credentialHost(key)] = c
		}
	}
	var cfg dockerConfig
	if err == nil {
		json.Unmarshal(b, &cfg)
	}
	var mu sync.Mutex
	asked := map[string]bool{} // a helper runs once per host
	return func(host string) (Credentials, bool) {
		h := credentialHost(host)
		mu.Lock()
		defer mu.Unlock()
		if asked[h] {
			c, ok := creds[h]
			return c, ok
		}
		asked[h] = true
		helper := cfg.CredsStore
		for key, hh := range cfg.CredHelpers {
			if credentialHost(key) == h {
				helper = hh
			}
		}
		if helper != "" {
			if c, err := fromHelper(helper, h); err == nil {
				creds[h] = c
			}
		}
		c, ok := creds[h]
		return c, ok
	}, nil
}

// fromHelper asks a Docker credential helper, the way docker does: run
// `docker-credential-NAME get` with the server on stdin, read
// {"Username": …, "Secret": …} from stdout.
func fromHelper(name, host string) (Credentials, error) {
	server := host
	if host == "docker.io" {
		server = "https://index.docker.io/v1/"
	}
	cmd := exec.Command("docker-credential-"+name, "get")
	cmd.Stdin = strings.NewReader(server)
	out, err := cmd.Output()
	if err != nil {
		return Credentials{}, fmt.Errorf("docker-credential-%s get %s: %w", name, server, err)
	}
	var r struct{ Username, Secret string }
	if err := json.Unmarshal(out, &r); err != nil {
		return Credentials{}, fmt.Errorf("docker-credential-%s: %w", name, err)
	}
	return Credentials{Username: r.Username, Password: r.Secret}, nil
}

// credentialHost reduces a config key ("https://index.docker.io/v1/",
// "http://host:5000", "host:5000") to the host it is for; all of Docker
// Hub's names become "docker.io".
func credentialHost(key string) string {
	if strings.Contains(key, "://") {
		if u, err := url.Parse(key); err == nil {
			key = u.Host
		}
	}
	key, _, _ = strings.Cut(key, "/")
	switch key {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return key
}

// token is a bearer token and when it stops being valid.
type token struct {
	value   string
	expires time.Time
}

// tokenResponse is what a token server answers (distribution's token
// spec: "token", or OAuth2's "access_token").
type tokenResponse struct {
	Token       string    `json:"token"`
	AccessToken string    `json:"access_token"`
	ExpiresIn   int       `json:"expires_in"`
	IssuedAt    time.Time `json:"issued_at"`
}
