package login_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// md runs mini-docker with its own state root and DOCKER_CONFIG.
type md struct {
	t               *testing.T
	bin, root, conf string
	path            string // PATH, with the test's credential helper
}

func (m md) run(stdin string, args ...string) (string, int) {
	m.t.Helper()
	cmd := exec.Command(m.bin, append([]string{"--root", m.root}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+m.conf, "PATH="+m.path)
	cmd.Stdin = strings.NewReader(stdin)
	return testenv.RunCmd(m.t, cmd)
}

func readAuths(t *testing.T, dir string) (map[string]map[string]string, map[string]json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	var auths map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(all["auths"], &auths)
	return auths, all
}

// TestLoginPushPullLogout: login checks the password against a registry
// with htpasswd auth and writes config.json as docker login does (the
// same auths entry Docker writes, other keys kept, mode 0600); push and
// pull then use it; logout removes it.
func TestLoginPushPullLogout(t *testing.T) {
	testenv.Integration(t)
	testenv.Bin(t, "pull")
	m := md{t: t, bin: testenv.Bin(t, "mini-docker"), root: t.TempDir(), conf: t.TempDir(), path: os.Getenv("PATH")}
	shared := testenv.SharedRegistry(t)
	busybox := testenv.PushBusybox(t, shared)
	reg := testenv.NewRegistry(t, testenv.RegistryOptions{User: "alice", Pass: "right"})
	os.WriteFile(filepath.Join(m.conf, "config.json"), []byte(`{"psFormat": "table {{.ID}}"}`), 0o600)

	if out, code := m.run("wrong\n", "login", "-u", "alice", "--password-stdin", reg.Addr); code != 1 || !strings.Contains(out, "401") && !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("login with a wrong password: exit %d\n%s", code, out)
	}
	if auths, _ := readAuths(t, m.conf); len(auths) != 0 {
		t.Errorf("a failed login wrote %v", auths)
	}
	if out, code := m.run("right\n", "login", "-u", "alice", "--password-stdin", reg.Addr); code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: exit %d\n%s", code, out)
	}
	auths, all := readAuths(t, m.conf)
	if auths[reg.Addr]["auth"] != base64.StdEncoding.EncodeToString([]byte("alice:right")) || all["psFormat"] == nil {
		t.Errorf("config.json after login: %s", all)
	}
	if fi, err := os.Stat(filepath.Join(m.conf, "config.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode: %v %v", fi.Mode(), err)
	}
	target := reg.Ref("mdtest/login:1")
	if out, code := m.run("", "pull", "-q", busybox); code != 0 {
		t.Fatalf("pull: %s", out)
	}
	m.run("", "tag", busybox, target)
	if out, code := m.run("", "push", target); code != 0 {
		t.Fatalf("push with the login's password: exit %d\n%s", code, out)
	}
	fresh := m
	fresh.root = t.TempDir()
	if out, code := fresh.run("", "pull", "-q", target); code != 0 {
		t.Fatalf("pull with the login's password: exit %d\n%s", code, out)
	}
	if out, code := m.run("", "logout", reg.Addr); code != 0 || out != "Removing login credentials for "+reg.Addr+"\n" {
		t.Errorf("logout: exit %d %q", code, out)
	}
	if auths, all := readAuths(t, m.conf); len(auths) != 0 || all["psFormat"] == nil {
		t.Errorf("config.json after logout: %s", all)
	}
	if out, _ := m.run("", "logout", reg.Addr); out != "Not logged in to "+reg.Addr+"\n" {
		t.Errorf("second logout: %q", out)
	}
	fresh.root = t.TempDir()
	if out, code := fresh.run("", "pull", "-q", target); code == 0 {
		t.Errorf("pull after logout succeeded:\n%s", out)
	}

	// docker login writes the same entry.
	testenv.RequireDockerEngine(t)
	dconf := t.TempDir()
	cmd := exec.Command("docker", "login", "-u", "alice", "--password-stdin", reg.Addr)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dconf)
	cmd.Stdin = strings.NewReader("right\n")
	if out, code := testenv.RunCmd(t, cmd); code != 0 {
		t.Fatalf("docker login: %s", out)
	}
	m.run("right\n", "login", "-u", "alice", "--password-stdin", reg.Addr)
	mine, _ := readAuths(t, m.conf)
	theirs, _ := readAuths(t, dconf)
	if len(mine) != 1 || mine[reg.Addr]["auth"] != theirs[reg.Addr]["auth"] || len(theirs[reg.Addr]) != len(mine[reg.Addr]) {
		t.Errorf("auths differ: mini-docker %v, docker %v", mine, theirs)
	}
}

// helperScript is a docker credential helper that keeps one secret in a
// file beside it, and logs each action.
const helperScript = `#!/bin/sh
dir=$(dirname "$0")
echo "$1" >> "$dir/actions"
case "$1" in
store) cat > "$dir/secret" ;;
get) cat > /dev/null; test -f "$dir/secret" || { echo "credentials not found in native keychain"; exit 1; }; sed 's/"ServerURL":"[^"]*",//' "$dir/secret" ;;
erase) cat > /dev/null; rm -f "$dir/secret" ;;
esac
`

// TestLoginCredentialHelper: with "credsStore" set, login hands the
// password to docker-credential-NAME store (config.json keeps an empty
// entry, as docker's), pull gets it back through get, logout erases it.
func TestLoginCredentialHelper(t *testing.T) {
	testenv.Integration(t)
	testenv.Bin(t, "pull")
	helperDir := t.TempDir()
	os.WriteFile(filepath.Join(helperDir, "docker-credential-mdtest"), []byte(helperScript), 0o755)
	m := md{t: t, bin: testenv.Bin(t, "mini-docker"), root: t.TempDir(), conf: t.TempDir(), path: helperDir + ":" + os.Getenv("PATH")}
	busybox := testenv.PushBusybox(t, testenv.SharedRegistry(t))
	reg := testenv.NewRegistry(t, testenv.RegistryOptions{User: "bob", Pass: "helper-pass"})
	os.WriteFile(filepath.Join(m.conf, "config.json"), []byte(`{"credsStore": "mdtest"}`), 0o600)
	if out, code := m.run("helper-pass", "login", "-u", "bob", "--password-stdin", reg.Addr); code != 0 || strings.Contains(out, "unencrypted") {
		t.Fatalf("login: exit %d\n%s", code, out)
	}
	auths, _ := readAuths(t, m.conf)
	if e, ok := auths[reg.Addr]; !ok || len(e) != 0 {
		t.Errorf("config.json auths %v, want an empty entry for %s", auths, reg.Addr)
	}
	secret, _ := os.ReadFile(filepath.Join(helperDir, "secret"))
	if !strings.Contains(string(secret), `"Secret":"helper-pass"`) || !strings.Contains(string(secret), `"ServerURL":"`+reg.Addr+`"`) {
		t.Errorf("the helper got %s", secret)
	}
	m.run("", "pull", "-q", busybox)
	m.run("", "tag", busybox, reg.Ref("mdtest/helper:1"))
	if out, code := m.run("", "push", reg.Ref("mdtest/helper:1")); code != 0 {
		t.Errorf("push with the helper's password: exit %d\n%s", code, out)
	}
	if out, code := m.run("", "logout", reg.Addr); code != 0 || !strings.Contains(out, "Removing login credentials") {
		t.Errorf("logout: exit %d\n%s", code, out)
	}
	actions, _ := os.ReadFile(filepath.Join(helperDir, "actions"))
	if got := strings.Fields(string(actions)); len(got) < 3 || got[0] != "store" || got[len(got)-1] != "erase" || !strings.Contains(string(actions), "get") {
		t.Errorf("helper actions %q, want store, get..., erase", got)
	}
	if _, err := os.Stat(filepath.Join(helperDir, "secret")); err == nil {
		t.Error("logout left the helper's secret")
	}
}
