package main

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/testenv"
)

// fourLayerImage is busybox and three layers over it that add, delete
// (whiteouts), hide (an opaque folder) and replace (a regular /etc/mtab,
// which the init layer's link covers, as in Docker).
func fourLayerImage(t *testing.T) testenv.Image {
	t.Helper()
	root := t.TempDir()
	if err := testenv.MakeBusyboxRootfs(root); err != nil {
		t.Fatal(err)
	}
	base, err := testenv.TarDir(root)
	if err != nil {
		t.Fatal(err)
	}
	F, D := testenv.File, testenv.Dir
	return testenv.Image{
		Config: ocispec.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"sh"}},
		Layers: []testenv.Layer{
			{Tar: base, Comment: "busybox"},
			{Tar: testenv.LayerTar(D("etc"), D("etc/app"), F("etc/app/a", "a"), F("etc/app/b", "b"),
				D("opt"), D("opt/old"), F("opt/old/1", "1"), F("opt/old/2", "2"), D("var"), D("var/lib"), F("var/lib/x", "x")), Comment: "add"},
			{Tar: testenv.LayerTar(D("etc"), testenv.Whiteout("etc/app/a"), F("etc/mtab", "not a link"),
				D("opt/old"), testenv.Opaque("opt/old"), F("opt/old/3", "3")), Comment: "whiteouts"},
			{Tar: testenv.LayerTar(D("var/lib"), testenv.Whiteout("var/lib/x"), testenv.Whiteout("home"), F("srv", "srv")), Comment: "more whiteouts"},
		},
	}
}

// TestInitLayerMatchesDocker: `find / -xdev` in a container of a
// four-layer image with whiteouts lists exactly what Docker's container
// of the same image (pulled by Docker from the same registry) lists:
// the image's files, whiteouts applied, and Docker's init layer
// (/.dockerenv, /etc/mtab -> /proc/mounts, the mount points).
func TestInitLayerMatchesDocker(t *testing.T) {
	h := newHarness(t)
	testenv.RequireDockerEngine(t)
	b := make([]byte, 4)
	rand.Read(b)
	repo := "mdtest/initlayer:" + hex.EncodeToString(b)
	testenv.PushImage(t, h.reg, repo, fourLayerImage(t), testenv.FormatDocker)
	ref := h.reg.Ref(repo)
	h.mustHost("pull", "-q", ref)
	const script = "find / -xdev | sort; readlink /etc/mtab; ls -l /.dockerenv | cut -c1-10"
	ours := h.mustHost("run", "--rm", "--network", "none", ref, "sh", "-c", script)

	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", ref).Run() })
	if out, err := exec.Command("docker", "pull", "-q", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", ref, err, out)
	}
	theirs, err := exec.Command("docker", "run", "--rm", "--network", "none", ref, "sh", "-c", script).Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	if ours != string(theirs) {
		t.Errorf("find / -xdev differs from Docker's:\n%s", lineDiff(string(theirs), ours))
	}
	for _, want := range []string{"/.dockerenv\n", "/etc/app/b\n", "/opt/old/3\n", "/srv\n", "/proc/mounts\n", "-rwxr-xr-x\n"} {
		if !strings.Contains(ours, want) {
			t.Errorf("the listing lacks %q:\n%s", want, ours)
		}
	}
	for _, gone := range []string{"/etc/app/a\n", "/opt/old/1\n", "/var/lib/x\n", "/home\n"} {
		if strings.Contains(ours, gone) {
			t.Errorf("the listing shows %q, which a whiteout deleted", gone)
		}
	}
	// The init layer is a layer of its own: the container's upper layer
	// (what diff and commit read) holds none of it.
	h.mustHost("run", "--name", "keep", "--network", "none", ref, "true")
	if diff := h.mustHost("diff", "keep"); strings.Contains(diff, "dockerenv") || strings.Contains(diff, "mtab") {
		t.Errorf("diff shows the init layer:\n%s", diff)
	}
	h.mustHost("rm", "keep")
	h.assertNoLeaks()
}

// lineDiff lists the lines only want has (-) and only got has (+).
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var out []string
	for l, n := range w {
		if g[l] < n {
			out = append(out, "- "+l)
		}
	}
	for l, n := range g {
		if w[l] < n {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
