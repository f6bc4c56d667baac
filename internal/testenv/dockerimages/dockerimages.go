// Package dockerimages keeps Docker's engine as the tests found it: the
// images they pull from a test registry (docker pull, docker load) and
// the images their docker build makes are removed when the registry or
// the test ends, so that a later cold docker pull (make bench) is cold.
// Lessons 10, 11 and 15 compare mini-docker with the engine.
package dockerimages

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Of returns what the engine holds of the registry at addr's images:
// their names, and the untagged images built on them (see Forget).
func Of(addr string) (names, built []string) { return of(images(), addr) }

// Forget removes from Docker's engine what tests made there of the
// images of the registry at addr: each name on it (ADDR/REPO:TAG,
// ADDR/REPO@DIGEST) and the untagged images built on them, such as a
// multi-stage build's earlier stages, which docker rmi of the final tag
// leaves behind. An image that also has a name elsewhere keeps it; other
// images are not touched. Without an engine it does nothing.
func Forget(addr string) {
	names, built := Of(addr)
	if len(built) > 0 {
		docker(append([]string{"rmi", "-f"}, built...)...)
	}
	if len(names) > 0 {
		docker(append([]string{"rmi", "-f"}, names...)...)
	}
}

// Names returns the names Docker's engine holds of images on
// the registry at addr (ADDR/REPO:TAG, ADDR/REPO@DIGEST); none without
// an engine.
func Names(addr string) []string {
	names, _ := Of(addr)
	return names
}

// images is docker image inspect's line for each image in the
// engine, intermediate ones too: ID|PARENT|TAGS|DIGESTS.
func images() string {
	list, err := docker("images", "-a", "-q", "--no-trunc")
	if err != nil {
		return ""
	}
	ids := []string{}
	seen := map[string]bool{}
	for _, id := range strings.Fields(string(list)) { // one row per name
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	args := append([]string{"image", "inspect", "--format", `{{.Id}}|{{.Parent}}|{{range .RepoTags}}{{.}} {{end}}|{{range .RepoDigests}}{{.}} {{end}}`}, ids...)
	out, _ := docker(args...) // an image removed meanwhile fails only its own line
	return string(out)
}

// of reads docker image inspect's lines (ID|PARENT|TAGS|
// DIGESTS) and returns the names on the registry at addr, and the IDs of
// the untagged images whose parent chain reaches an image so named.
func of(lines, addr string) (names, built []string) {
	parent := map[string]string{}
	untagged := []string{}
	ours := map[string]bool{}
	for _, line := range strings.Split(lines, "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			continue
		}
		parent[f[0]] = f[1]
		if strings.TrimSpace(f[2]) == "" {
			untagged = append(untagged, f[0])
		}
		for _, n := range strings.Fields(f[2] + " " + f[3]) {
			if strings.HasPrefix(n, addr+"/") {
				names = append(names, n)
				ours[f[0]] = true
			}
		}
	}
	for _, id := range untagged {
		if ours[id] {
			continue
		}
		for p, hops := parent[id], 0; p != "" && hops < len(parent); p, hops = parent[p], hops+1 {
			if ours[p] {
				built = append(built, id)
				break
			}
		}
	}
	return names, built
}

// Build runs docker build with the classic builder and no network
// (DOCKER_BUILDKIT=0 docker build --network none -t tag ARGS ctx), fails
// t when it fails, and returns its output. When t ends it removes what
// the build made: tag, and the images of the build's earlier stages,
// which docker rmi of tag leaves untagged.
func Build(t testing.TB, tag, ctx string, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"build", "--network", "none", "-t", tag}, append(args, ctx)...)...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		docker("rmi", "-f", tag)
		if left := untaggedSteps(string(out), images()); len(left) > 0 {
			docker(append([]string{"rmi"}, left...)...)
		}
	})
	if err != nil {
		t.Fatalf("docker build -t %s: %v\n%s", tag, err, out)
	}
	return string(out)
}

// untaggedSteps returns the images the classic builder's output names
// (" ---> ID" after each step) that have no name now, per the engine's
// image lines (images), the last step's first: removing the last
// image of a stage removes its untagged parents with it.
func untaggedSteps(build, lines string) []string {
	untagged := map[string]string{} // short ID → full
	for _, line := range strings.Split(lines, "\n") {
		if f := strings.Split(line, "|"); len(f) == 4 && strings.TrimSpace(f[2]) == "" {
			id := strings.TrimPrefix(f[0], "sha256:")
			if len(id) >= 12 {
				untagged[id[:12]] = f[0]
			}
		}
	}
	var ids []string
	for _, m := range buildStep.FindAllStringSubmatch(build, -1) {
		if full, ok := untagged[m[1]]; ok && !slices.Contains(ids, full) {
			ids = append(ids, full)
		}
	}
	slices.Reverse(ids)
	return ids
}

// docker runs the docker CLI and returns its output, ended after two
// minutes: an engine that hangs fails the clean-up, not the test run.
func docker(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "docker", args...).Output()
}

// buildStep matches the line the classic builder prints after each step.
var buildStep = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})$`)
