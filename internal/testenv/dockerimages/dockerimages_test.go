package dockerimages

import (
	"strings"
	"testing"
)

// of finds the names on one registry (tags and digests,
// not another port's) and the untagged images built on them, however
// deep, but not an untagged image of another lineage.
func TestDockerImagesOf(t *testing.T) {
	inspect := strings.Join([]string{
		"sha256:bb||127.0.0.1:5000/library/busybox:latest 127.0.0.1:50000/library/busybox:latest|127.0.0.1:5000/library/busybox@sha256:d1",
		"sha256:dg|||127.0.0.1:5000/library/debian@sha256:d2",
		"sha256:s1|sha256:bb||",
		"sha256:s2|sha256:s1||",
		"sha256:other||mine:1|",
		"sha256:o1|sha256:other||",
		"sha256:cyc|sha256:cyc||",
		"not a line",
	}, "\n")
	names, built := of(inspect, "127.0.0.1:5000")
	wantNames := "127.0.0.1:5000/library/busybox:latest 127.0.0.1:5000/library/busybox@sha256:d1 127.0.0.1:5000/library/debian@sha256:d2"
	if got := strings.Join(names, " "); got != wantNames {
		t.Errorf("names %q, want %q", got, wantNames)
	}
	if got := strings.Join(built, " "); got != "sha256:s1 sha256:s2" {
		t.Errorf("built on them %q, want sha256:s1 sha256:s2", got)
	}
}

// untaggedSteps names, last first, the steps of a classic build that
// have no name now (an earlier stage's), not the base image it started
// from nor the final, named one.
func TestUntaggedSteps(t *testing.T) {
	build := "Step 1/4 : FROM base AS one\n ---> aaaaaaaaaaaa\nStep 2/4 : RUN x\n ---> Running in 0123456789ab\n" +
		" ---> bbbbbbbbbbbb\nStep 3/4 : FROM base\n ---> aaaaaaaaaaaa\nStep 4/4 : COPY --from=one /x /x\n ---> cccccccccccc\n" +
		"Successfully built cccccccccccc\n"
	images := strings.Join([]string{
		"sha256:aaaaaaaaaaaa11||base:latest |",
		"sha256:bbbbbbbbbbbb22|sha256:aaaaaaaaaaaa11||",
		"sha256:cccccccccccc33|sha256:aaaaaaaaaaaa11|final:1 |",
		"sha256:dddddddddddd44|sha256:aaaaaaaaaaaa11||",
	}, "\n")
	if got := strings.Join(untaggedSteps(build, images), " "); got != "sha256:bbbbbbbbbbbb22" {
		t.Errorf("untaggedSteps = %q, want the first stage's image alone", got)
	}
}
