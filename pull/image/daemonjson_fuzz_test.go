package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDaemonJSON feeds arbitrary daemon.json and Docker config.json
// (credentials) files to RegistryOptions, the way `pull` reads them: no
// panic, an error names the file it is about, and every mirror that
// comes out has a scheme.
func FuzzDaemonJSON(f *testing.F) {
	for _, s := range [][2]string{
		{`{"registry-mirrors":["https://mirror.example"],"insecure-registries":["127.0.0.1:5000"]}`, `{}`},
		{`{"registry-mirrors":["127.0.0.1:5000","mirror.example:443","[::1]:5000"]}`, `{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6czNjcmV0"}}}`},
		{`{"registry-mirrors":null,"insecure-registries":[""]}`, `{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"}},"credsStore":"pass"}`},
		{`{"registry-mirrors":"not a list"}`, `{"auths":{"x":{"auth":"!!!"}}}`},
		{`{"registry-mirrors":["://"]}`, `{"auths":{"x":{"auth":"bm9jb2xvbg=="}}}`},
		{``, ``}, {`[`, `[`}, {`null`, `null`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	// RegistryOptions reads files only: keep them in memory (/dev/shm)
	// when there is one, so each input costs no disk write.
	dir, err := os.MkdirTemp("/dev/shm", "daemonjson-fuzz-")
	if err != nil {
		dir = f.TempDir()
	} else {
		f.Cleanup(func() { os.RemoveAll(dir) })
	}
	daemon := filepath.Join(dir, "daemon.json")
	docker := filepath.Join(dir, "docker")
	if err := os.Mkdir(docker, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Setenv("MINI_DOCKER_CONFIG", daemon)
	f.Setenv("DOCKER_CONFIG", docker)
	f.Setenv(MirrorEnv, "")
	f.Fuzz(func(t *testing.T, daemonJSON, configJSON []byte) {
		if err := os.WriteFile(daemon, daemonJSON, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docker, "config.json"), configJSON, 0o600); err != nil {
			t.Fatal(err)
		}
		opts, err := RegistryOptions(nil, nil)
		if err != nil {
			if !strings.Contains(err.Error(), dir) && !strings.Contains(err.Error(), "docker config") {
				t.Fatalf("error %q does not name the file it is about", err)
			}
			return
		}
		for _, m := range opts.Mirrors {
			if !strings.Contains(m, "://") {
				t.Fatalf("mirror %q has no scheme", m)
			}
		}
	})
}
