package main

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// pullCmd runs the built pull tool with a state root of the test's own.
func pullCmd(t *testing.T, root string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Bin(t, "pull"), args...)
	cmd.Env = append(os.Environ(), "MINI_DOCKER_ROOT="+root, "MINI_DOCKER_CONFIG=/nonexistent", "DOCKER_CONFIG="+root)
	return testenv.RunCmd(t, cmd)
}

func TestPullOutputLikeDocker(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	ref := testenv.PushEdgeImage(t, reg)
	testenv.PushBusybox(t, reg)
	root := t.TempDir()

	out, code := pullCmd(t, root, ref)
	want := regexp.MustCompile(`^latest: Pulling from edge/layers
[0-9a-f]{12}: Pull complete
[0-9a-f]{12}: Pull complete
[0-9a-f]{12}: Pull complete
Digest: sha256:[0-9a-f]{64}
Status: Downloaded newer image for ` + regexp.QuoteMeta(ref) + `
` + regexp.QuoteMeta(ref) + `
$`)
	if code != 0 || !want.MatchString(out) {
		t.Errorf("first pull: exit %d\n%s", code, out)
	}
	out, code = pullCmd(t, root, ref)
	if code != 0 || strings.Count(out, ": Already exists") != 3 || !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Errorf("second pull: exit %d\n%s", code, out)
	}
	out, code = pullCmd(t, root, "--quiet", reg.Ref(testenv.BusyboxRepo))
	if code != 0 || out != reg.Ref(testenv.BusyboxRepo)+"\n" {
		t.Errorf("--quiet: exit %d\n%q", code, out)
	}
	out, code = pullCmd(t, root, "--implicit", reg.Ref(testenv.BusyboxRepo))
	if code != 0 || !strings.HasPrefix(out, "Unable to find image '"+reg.Ref(testenv.BusyboxRepo)+"' locally\n") {
		t.Errorf("--implicit: exit %d\n%s", code, out)
	}

	out, code = pullCmd(t, root, "images")
	if code != 0 || !strings.Contains(out, "REPOSITORY") || !regexp.MustCompile(regexp.QuoteMeta(reg.Addr+"/edge/layers")+` +latest +[0-9a-f]{12} +2024-01-01 +[0-9.]+kB\n`).MatchString(out) {
		t.Errorf("images: exit %d\n%s", code, out)
	}
	out, code = pullCmd(t, root, "inspect", ref)
	if code != 0 || !strings.Contains(out, `"LayerDirs"`) {
		t.Errorf("inspect: exit %d\n%s", code, out)
	}
	out, code = pullCmd(t, root, "verify")
	if code != 0 || !strings.Contains(out, "is consistent") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
}

func TestPullExplain(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	ref := testenv.PushBusybox(t, reg)
	out, code := pullCmd(t, t.TempDir(), "--explain", ref)
	for _, want := range []string{
		"+ curl -sS http://" + reg.Addr + "/v2/\n# 200 OK",
		"+ curl -sS -H 'Accept: application/vnd.oci.image.index.v1+json, ",
		"/v2/library/busybox/manifests/latest\n# 200 OK, application/vnd.docker.distribution.manifest.v2+json",
		"/v2/library/busybox/blobs/sha256:",
		"# digest sha256:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--explain output lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestPullErrors(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	testenv.PushBusybox(t, reg)
	root := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"Ubuntu"}, 125, "pull: error: invalid reference format: repository name must be lowercase\npull: hint: "},
		{[]string{"ubuntu:-x"}, 125, "pull: error: invalid reference format: invalid tag format\n"},
		{[]string{reg.Ref("library/busybox:nope")}, 125, "pull: error: manifest for " + reg.Ref("library/busybox:nope") + " not found: "},
		{[]string{reg.Ref("library/nothing")}, 125, "MANIFEST_UNKNOWN"},
		{[]string{"127.0.0.1:1/x"}, 125, "connection refused\npull: hint: is the registry running?"},
		{[]string{"--platform", "linux/s390x", reg.Ref(testenv.BusyboxRepo)}, 125, "was found but does not match the specified platform: wanted linux/s390x, actual: linux/"},
		{[]string{"--max-concurrent", "0", "x"}, 125, "--max-concurrent must be at least 1"},
		{[]string{"a", "b"}, 125, "exactly one image reference"},
	}
	for _, tt := range tests {
		out, code := pullCmd(t, root, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("pull %s: exit %d, want %d with %q:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, out)
		}
	}
	// Nothing failed left an image or a partial file behind.
	out, _ := pullCmd(t, root, "images")
	if strings.Count(out, "\n") != 1 {
		t.Errorf("images after the failures:\n%s", out)
	}
}

// TestPlatformChoice: a multi-platform image gives the host's manifest,
// and an unknown platform lists what the index offers.
func TestPlatformChoice(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	l := testenv.NewLayout(t)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	var descs []ocispec.Descriptor
	for _, arch := range []string{runtime.GOARCH, other} {
		d, err := l.AddImage(testenv.Image{Architecture: arch, Layers: []testenv.Layer{{Tar: testenv.LayerTar(testenv.File("arch", arch))}}})
		if err != nil {
			t.Fatal(err)
		}
		descs = append(descs, d)
	}
	idx, err := l.AddIndex(descs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Tag(idx, "multi"); err != nil {
		t.Fatal(err)
	}
	if err := l.Push("multi", reg, "edge/multi:latest", testenv.FormatOCI, true); err != nil {
		t.Fatal(err)
	}
	ref := reg.Ref("edge/multi:latest")
	root := t.TempDir()
	if out, code := pullCmd(t, root, ref); code != 0 || !strings.Contains(out, "Digest: "+idx.Digest.String()) {
		t.Errorf("pull of an index: exit %d\n%s", code, out)
	}
	out, code := pullCmd(t, root, "inspect", ref)
	if code != 0 || !strings.Contains(out, descs[0].Digest.String()) {
		t.Errorf("stored manifest is not the host's %s:\n%s", descs[0].Digest, out)
	}
	out, code = pullCmd(t, root, "--platform", "linux/s390x", ref)
	want := "no matching manifest for linux/s390x in the manifest list entries (the image offers "
	if code != 125 || !strings.Contains(out, want) || !strings.Contains(out, "linux/"+other) {
		t.Errorf("--platform linux/s390x: exit %d\n%s", code, out)
	}
	if out, code := pullCmd(t, root, "--platform", "linux/"+other, ref); code != 0 {
		t.Errorf("--platform linux/%s: exit %d\n%s", other, code, out)
	}

	// The same as a Docker manifest list (skopeo converts the index).
	if err := l.Push("multi", reg, "edge/multi-docker:latest", testenv.FormatDocker, true); err != nil {
		t.Fatal(err)
	}
	out, code = pullCmd(t, root, "--explain", reg.Ref("edge/multi-docker:latest"))
	if code != 0 || !strings.Contains(out, "# 200 OK, application/vnd.docker.distribution.manifest.list.v2+json") {
		t.Errorf("pull of a Docker manifest list: exit %d\n%s", code, out)
	}
}

// TestSaveLoadRmi: save writes an archive that is both a docker-save
// tarball and an OCI archive; load brings it into an empty store; rmi
// removes only what no other image uses.
func TestSaveLoadRmi(t *testing.T) {
	testenv.Integration(t)
	reg := testenv.SharedRegistry(t)
	edge := testenv.PushEdgeImage(t, reg)
	busybox := testenv.PushBusybox(t, reg)
	root := t.TempDir()
	for _, ref := range []string{edge, busybox} {
		if out, code := pullCmd(t, root, "-q", ref); code != 0 {
			t.Fatalf("pull %s: %s", ref, out)
		}
	}
	archive := filepath.Join(t.TempDir(), "images.tar")
	if out, code := pullCmd(t, root, "save", "-o", archive, edge, busybox); code != 0 {
		t.Fatalf("save: exit %d\n%s", code, out)
	}
	names := tarNames(t, archive)
	for _, want := range []string{"oci-layout", "index.json", "manifest.json"} {
		if !names[want] {
			t.Errorf("archive lacks %s", want)
		}
	}
	out, code := testenv.Run(t, "skopeo", "inspect", "oci-archive:"+archive+":"+strings.TrimPrefix(busybox, ""))
	if code != 0 {
		x, _ := exec.Command("tar", "-xOf", archive, "index.json").CombinedOutput()
		t.Errorf("skopeo inspect oci-archive: %s\n%s", out, x)
	}

	other := t.TempDir()
	out, code = pullCmd(t, other, "load", "-i", archive)
	if code != 0 || out != "Loaded image: "+edge+"\nLoaded image: "+busybox+"\n" {
		t.Errorf("load: exit %d\n%s", code, out)
	}
	if out, code := pullCmd(t, other, "verify"); code != 0 {
		t.Errorf("verify after load: %s", out)
	}
	if out, code := pullCmd(t, other, edge); code != 0 || !strings.Contains(out, "Image is up to date") {
		t.Errorf("pull after load: exit %d\n%s", code, out)
	}

	// rmi edge: its blobs go, busybox's stay.
	out, code = pullCmd(t, other, "rmi", edge)
	if code != 0 || !strings.HasPrefix(out, "Untagged: "+edge+"\nDeleted: sha256:") {
		t.Errorf("rmi: exit %d\n%s", code, out)
	}
	layers, _ := os.ReadDir(filepath.Join(other, "layers"))
	if len(layers) != 1 {
		t.Errorf("%d layer folders after rmi, want busybox's 1", len(layers))
	}
	if out, code := pullCmd(t, other, "verify"); code != 0 {
		t.Errorf("verify after rmi: %s", out)
	}
	if out, code := pullCmd(t, other, "rmi", edge); code != 125 || !strings.Contains(out, "no such image") {
		t.Errorf("rmi again: exit %d\n%s", code, out)
	}
}

func tarNames(t *testing.T, p string) map[string]bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
}

// TestProgressOnTerminal: on a terminal the layer lines are redrawn in
// place (cursor up, erase line) and end as "Pull complete".
func TestProgressOnTerminal(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireCommand(t, "script")
	ref := testenv.PushDebian(t, testenv.SharedRegistry(t))
	bin := testenv.Bin(t, "pull")
	// script(1) runs the command on a new pseudo-terminal.
	out, code := testenv.Run(t, "script", "-qefc", bin+" --root "+t.TempDir()+" "+ref, "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "\x1b[2K") || !regexp.MustCompile(`[0-9a-f]{12}: Pull complete`).MatchString(out) ||
		!strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Errorf("terminal output:\n%q", out)
	}
}
