package lessoncheck

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/cli"
	"mini-docker/internal/lessoncheck/probe"
)

// checks1101 are exercise 11.1's checks.
func checks1101(s *State) []Check {
	d := s.Path("img")
	var m ocispec.Manifest
	var c ocispec.Image
	manifest := func() error {
		var err error
		m, err = layoutManifest(d)
		return err
	}
	return []Check{
		{What: "img/ is an OCI image layout whose index names one manifest", Cmd: "cat " + d + "/oci-layout " + d + "/index.json",
			Hint: `printf '{"imageLayoutVersion": "1.0.0"}' > img/oci-layout, and an index.json naming the manifest's digest and size`,
			Test: manifest},
		{What: "its config blob is there, digest verified, with a command", Cmd: "jq .config " + d + "/blobs/sha256/$(jq -r '.config.digest | ltrimstr(\"sha256:\")' MANIFEST)",
			Hint: `config.json: {"architecture": "amd64", "os": "linux", "config": {"Cmd": [...]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:..."]}}`,
			Test: func() error {
				if manifest() != nil {
					return fmt.Errorf("no manifest yet")
				}
				var err error
				if c, err = configOf(d, m); err != nil {
					return err
				}
				if len(c.Config.Cmd) == 0 && len(c.Config.Entrypoint) == 0 {
					return fmt.Errorf("the config has no Cmd")
				}
				return nil
			}},
		{What: "every layer blob is there, digest verified, one diff ID each", Cmd: "sha256sum " + d + "/blobs/sha256/*",
			Hint: "copy layer.tar.gz to img/blobs/sha256/ under its sha256, and put the sha256 of the uncompressed tar in rootfs.diff_ids",
			Test: func() error {
				if manifest() != nil {
					return fmt.Errorf("no manifest yet")
				}
				if len(m.Layers) == 0 || len(m.Layers) != len(c.RootFS.DiffIDs) {
					return fmt.Errorf("%d layer(s), %d diff ID(s)", len(m.Layers), len(c.RootFS.DiffIDs))
				}
				for _, l := range m.Layers {
					if err := digestIs(blobPath(d, string(l.Digest)), string(l.Digest)); err != nil {
						return err
					}
				}
				return nil
			}},
		{What: "a layer holds hello.txt", Cmd: "tar -tzf " + d + "/blobs/sha256/LAYER",
			Hint: `echo "made without a Dockerfile" > rootfs/hello.txt before tar -C rootfs -cf layer.tar .`,
			Test: func() error {
				if manifest() != nil {
					return fmt.Errorf("no manifest yet")
				}
				for _, l := range m.Layers {
					if ok, _ := tarHas(blobPath(d, string(l.Digest)), "hello.txt"); ok {
						return nil
					}
				}
				return fmt.Errorf("no layer has hello.txt")
			}},
	}
}

// checks1102 are exercise 11.2's checks.
func checks1102(s *State) []Check {
	store := filepath.Join(cli.StateRoot(), "images")
	return []Check{
		{What: "mini-docker's store names an image ex11:1", Cmd: "jq '.manifests[].annotations' " + store + "/index.json",
			Hint: "name it in img/index.json (org.opencontainers.image.ref.name: ex11:1), then tar -C img -cf img.tar . && mini-docker load -i img.tar",
			Test: func() error { return storeNames(store, "ex11:1") }},
		{What: "ran.txt holds what it printed", Cmd: "cat " + s.Path("ran.txt"),
			Hint: "mini-docker run --rm --network none ex11:1 > ran.txt",
			Test: func() error { return probe.FileContains(s.Path("ran.txt"), "made without a Dockerfile") }},
	}
}

// blobPath is where a layout keeps the blob with that digest.
func blobPath(layout, digest string) string {
	return filepath.Join(layout, "blobs", "sha256", filepath.Base(strings.TrimPrefix(digest, "sha256:")))
}

// layoutManifest reads an OCI layout's index and its one manifest,
// checking the manifest's digest.
func layoutManifest(d string) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := probe.FileContains(d+"/oci-layout", "imageLayoutVersion"); err != nil {
		return m, err
	}
	var idx ocispec.Index
	if err := readJSON(d+"/index.json", &idx); err != nil {
		return m, err
	}
	if len(idx.Manifests) != 1 {
		return m, fmt.Errorf("index.json names %d manifests", len(idx.Manifests))
	}
	p := blobPath(d, string(idx.Manifests[0].Digest))
	if err := digestIs(p, string(idx.Manifests[0].Digest)); err != nil {
		return m, err
	}
	if err := readJSON(p, &m); err != nil {
		return m, err
	}
	if m.Config.Digest == "" || len(m.Layers) == 0 {
		return m, fmt.Errorf("the manifest names no config or no layer")
	}
	return m, nil
}

// configOf reads and checks the config blob a manifest names.
func configOf(d string, m ocispec.Manifest) (ocispec.Image, error) {
	var c ocispec.Image
	p := blobPath(d, string(m.Config.Digest))
	if err := digestIs(p, string(m.Config.Digest)); err != nil {
		return c, err
	}
	return c, readJSON(p, &c)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return probe.NotThere(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not the JSON expected: %v", filepath.Base(path), err)
	}
	return nil
}

// tarHas reports whether a gzipped tar holds a file named name (with or
// without a leading ./).
func tarHas(path, name string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return false, err
	}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return true, nil
		}
	}
}

// storeNames checks that an image store's index names ref.
func storeNames(store, ref string) error {
	var idx ocispec.Index
	if err := readJSON(store+"/index.json", &idx); err != nil {
		return err
	}
	for _, m := range idx.Manifests {
		for _, k := range []string{ocispec.AnnotationRefName, "io.containerd.image.name"} {
			if n := m.Annotations[k]; n == ref || strings.HasSuffix(n, "/"+ref) {
				return nil
			}
		}
	}
	return fmt.Errorf("%s/index.json names no %s", store, ref)
}
