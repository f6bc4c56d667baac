// Package login is `mini-docker login` and `logout`: they check a user
// and password against a registry (GET /v2/, with the registry's own
// authentication: basic, or a bearer token from its token server) and
// keep them where docker login does, in ~/.docker/config.json
// ($DOCKER_CONFIG/config.json): "auths": {"HOST": {"auth":
// base64("user:password")}}, or, when the file names a credential helper
// (credsStore, or credHelpers[HOST]), in that helper, through
// `docker-credential-NAME store|erase` with JSON on its stdin. pull and
// push read them back (pull/registry.LoadDockerCredentials).
//
// Lesson 08 (lessons/08-images.md) teaches the registry API it talks to.
package login

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/pull/registry"
)

// DockerHub is the key docker login uses for Docker Hub.
const DockerHub = "https://index.docker.io/v1/"

var loginSpec = command.Spec{
	Name: "login", Usage: "[-u USER] [-p PASSWORD | --password-stdin] [SERVER]",
	Summary: "Log in to a registry: check the password against the registry's /v2/, then keep it in\n" +
		"~/.docker/config.json (base64 user:password), or in the credential helper it names.",
	Examples: []string{"echo secret | mini-docker login -u alice --password-stdin 127.0.0.1:5000",
		"mini-docker login -u alice -p secret registry.example.com"},
}

// Login is `mini-docker login [-u USER] [-p PASS | --password-stdin] [SERVER]`.
func Login(_ string, args []string) error {
	f := loginSpec.Flags()
	user := f.StringP("username", "u", "", "username")
	pass := f.StringP("password", "p", "", "password")
	stdin := f.Bool("password-stdin", false, "take the password from stdin")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() > 1 {
		return cli.Usagef("mini-docker login", "\"login\" requires at most 1 argument")
	}
	if *stdin {
		if *pass != "" {
			return cli.Errorf(1, "--password and --password-stdin are mutually exclusive")
		}
		if *user == "" {
			return cli.Errorf(1, "Must provide --username with --password-stdin")
		}
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return err
		}
		*pass = strings.TrimRight(string(b), "\r\n")
	} else if *pass != "" {
		fmt.Fprintln(os.Stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
	}
	if *user == "" || *pass == "" {
		return cli.Errorf(1, "Error: Cannot perform an interactive login from a non TTY device: give -u and --password-stdin")
	}
	server := DockerHub
	if f.NArg() == 1 {
		server = ServerKey(f.Arg(0))
	}
	if err := Check(server, *user, *pass); err != nil {
		return cli.Errorf(1, "Error response from daemon: %v", err)
	}
	path := registry.DockerConfigPath()
	plain, err := Store(path, server, registry.Credentials{Username: *user, Password: *pass})
	if err != nil {
		return err
	}
	if plain {
		fmt.Fprintf(os.Stderr, "WARNING! Your password will be stored unencrypted in %s.\n", path)
	}
	fmt.Println("Login Succeeded")
	return nil
}

var logoutSpec = command.Spec{
	Name: "logout", Usage: "[SERVER]",
	Summary:  "Log out from a registry: remove its credentials from ~/.docker/config.json (and its helper).",
	Examples: []string{"mini-docker logout 127.0.0.1:5000"},
}

// Logout is `mini-docker logout [SERVER]`.
func Logout(_ string, args []string) error {
	f := logoutSpec.Flags()
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	server := DockerHub
	if f.NArg() == 1 {
		server = ServerKey(f.Arg(0))
	}
	found, err := Erase(registry.DockerConfigPath(), server)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(strings.TrimPrefix(server, "https://"), "/v1/")
	if !found {
		fmt.Printf("Not logged in to %s\n", name)
		return nil
	}
	fmt.Printf("Removing login credentials for %s\n", name)
	return nil
}

// ServerKey is the config.json key docker login writes for a server
// argument: the host[:port] alone, Docker Hub's names as its v1 URL.
func ServerKey(s string) string {
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			s = u.Host
		}
	}
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return DockerHub
	}
	return s
}

// Check logs in to server's /v2/ with user and password: 200 means the
// registry accepts them (basic auth, or a token its server issued).
func Check(server, user, pass string) error {
	host := server
	if server == DockerHub {
		host = registry.DockerHubRegistry
	}
	c := registry.New(registry.Options{Retries: 1, Credentials: func(string) (registry.Credentials, bool) {
		return registry.Credentials{Username: user, Password: pass}, true
	}})
	scheme := "https"
	if c.PlainHTTP(host) {
		scheme = "http"
	}
	ep := registry.Endpoint{URL: &url.URL{Scheme: scheme, Host: host}, Host: host}
	resp, err := c.Do(context.Background(), ep, "", http.MethodGet, "/v2/", nil, nil, 0)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return registry.ResponseError(resp.Request, resp)
	}
	return nil
}

// readConfig reads config.json as docker keeps it, every key kept.
func readConfig(path string) (map[string]json.RawMessage, error) {
	cfg := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, nil
}

// helperFor is the credential helper config names for server ("" none).
func helperFor(cfg map[string]json.RawMessage, server string) string {
	var helpers map[string]string
	json.Unmarshal(cfg["credHelpers"], &helpers)
	if h, ok := helpers[server]; ok {
		return h
	}
	var store string
	json.Unmarshal(cfg["credsStore"], &store)
	return store
}

// Store keeps c for server in the config file at path (created 0600),
// or in its credential helper; plain reports the former.
func Store(path, server string, c registry.Credentials) (plain bool, err error) {
	cfg, err := readConfig(path)
	if err != nil {
		return false, err
	}
	auths := map[string]map[string]any{}
	json.Unmarshal(cfg["auths"], &auths)
	if auths == nil {
		auths = map[string]map[string]any{}
	}
	if h := helperFor(cfg, server); h != "" {
		in, _ := json.Marshal(map[string]string{"ServerURL": server, "Username": c.Username, "Secret": c.Password})
		if err := runHelper(h, "store", in); err != nil {
			return false, err
		}
		auths[server] = map[string]any{} // docker keeps an empty entry
	} else {
		auths[server] = map[string]any{"auth": base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))}
		plain = true
	}
	cfg["auths"], _ = json.Marshal(auths)
	return plain, writeConfig(path, cfg)
}

// Erase removes server's credentials from the config file and its
// helper; found reports whether there were any.
func Erase(path, server string) (found bool, err error) {
	cfg, err := readConfig(path)
	if err != nil {
		return false, err
	}
	auths := map[string]json.RawMessage{}
	json.Unmarshal(cfg["auths"], &auths)
	_, found = auths[server]
	if h := helperFor(cfg, server); h != "" {
		if runHelper(h, "erase", []byte(server)) == nil {
			found = true
		}
	}
	if !found {
		return false, nil
	}
	delete(auths, server)
	cfg["auths"], _ = json.Marshal(auths)
	return true, writeConfig(path, cfg)
}

// runHelper runs docker-credential-NAME ACTION with input on its stdin,
// as docker does.
func runHelper(name, action string, input []byte) error {
	cmd := exec.Command("docker-credential-"+name, action)
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker-credential-%s %s: %v: %s", name, action, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeConfig writes config.json atomically, mode 0600 (it holds
// passwords), indented as docker writes it.
func writeConfig(path string, cfg map[string]json.RawMessage) error {
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	w, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(b)
	err = bw.Flush()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
