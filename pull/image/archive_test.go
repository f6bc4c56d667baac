package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/pull/store"
)

type entry struct {
	name, body, link string
}

func archive(entries ...entry) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if e.link != "" {
			tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeSymlink, Linkname: e.link})
			continue
		}
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body))})
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return &buf
}

// TestLoadDockerSaveWithLinks: a classic `docker save` tarball whose
// second image links its layer to the first one's.
func TestLoadDockerSaveWithLinks(t *testing.T) {
	testenv.RequireRoot(t)
	layer := testenv.LayerTar(testenv.File("hello", "world"))
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer))
	cfg := `{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["` + diffID + `"]}}`
	manifest := `[{"Config":"c.json","RepoTags":["a:1"],"Layers":["aaa/layer.tar"]},{"Config":"c.json","RepoTags":["b:1"],"Layers":["bbb/layer.tar"]}]`
	s, _ := store.Open(t.TempDir())
	names, err := Load(context.Background(), s, archive(
		entry{name: "aaa/layer.tar", body: string(layer)},
		entry{name: "bbb/layer.tar", link: "../aaa/layer.tar"},
		entry{name: "c.json", body: cfg}, entry{name: "manifest.json", body: manifest}), Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "a:1 b:1" {
		t.Errorf("loaded %v", names)
	}
	img, err := s.Lookup("b:1")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(img.LayerDirs[0], "hello")); string(b) != "world" {
		t.Errorf("hello = %q", b)
	}
}

// TestLoadRefusesEscapes: an archive cannot write outside the scratch
// folder, neither by name nor through a symlink.
func TestLoadRefusesEscapes(t *testing.T) {
	canary := filepath.Join(t.TempDir(), "canary")
	os.WriteFile(canary, []byte("canary"), 0o644)
	for name, a := range map[string]*bytes.Buffer{
		"dot-dot":          archive(entry{name: "../../../../../../../../" + canary, body: "pwned"}),
		"absolute":         archive(entry{name: canary, body: "pwned"}),
		"through symlink":  archive(entry{name: "d", link: filepath.Dir(canary)}, entry{name: "d/canary", body: "pwned"}),
		"relative symlink": archive(entry{name: "a/b/c/l", link: "../../../s"}, entry{name: "x", link: "a/b/c/l/../../../../../../../../../../" + canary}),
	} {
		s, _ := store.Open(t.TempDir())
		if _, err := Load(context.Background(), s, a, Limits{}, nil); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
		if b, _ := os.ReadFile(canary); string(b) != "canary" {
			t.Fatalf("%s: canary changed", name)
		}
	}
}
