package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/store"
)

// Fuzz targets for what a registry or an archive sends (go test -fuzz).
// Each asserts what the rest of the toolkit relies on: an accepted
// value holds only valid digests, and survives being written again.

var (
	fuzzDigest = digest.FromString("x")
	fuzzHex    = fuzzDigest.Encoded()
)

// validDescriptors fails t when a descriptor accepted by a parser holds
// a digest ValidateDigest refuses or a negative size.
func validDescriptors(t *testing.T, what string, ds ...ocispec.Descriptor) {
	t.Helper()
	for _, d := range ds {
		if err := store.ValidateDigest(d.Digest); err != nil || d.Size < 0 {
			t.Fatalf("%s: accepted descriptor %+v: %v", what, d, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + fuzzDigest.String() + `","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + fuzzDigest.String() + `","size":5}]}`,
		`{"config":{"digest":"sha256:../../x","size":1},"layers":[]}`,
		`{"config":{"digest":"` + fuzzDigest.String() + `","size":314572800}}`,
		`{"config":{"digest":"` + fuzzDigest.String() + `","size":-1}}`,
		`{"config":{"digest":"sha512:` + strings.Repeat("a", 128) + `"},"layers":[{"digest":"SHA256:` + strings.ToUpper(fuzzHex) + `"}]}`,
		`{}`, `null`, `[`, `{"layers":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseManifest(raw)
		if err != nil {
			return
		}
		validDescriptors(t, "manifest", append([]ocispec.Descriptor{m.Config}, m.Layers...)...)
		if m.Config.Size > store.MaxSmallBlob {
			t.Fatalf("config of %d bytes accepted", m.Config.Size)
		}
		if len(m.Layers) > MaxLayers {
			t.Fatalf("%d layers accepted", len(m.Layers))
		}
		again, _ := json.Marshal(m)
		if _, err := ParseManifest(again); err != nil {
			t.Fatalf("accepted manifest written back is refused: %v\n%s", err, again)
		}
	})
}

// TestParseManifestOnlyImages: what a registry stores besides container
// images (a Helm chart: its own config and layer media types) and an
// image deeper than Docker's 125 layers are refused, each in one line.
func TestParseManifestOnlyImages(t *testing.T) {
	desc := func(mt string) string {
		return `{"mediaType":"` + mt + `","digest":"` + fuzzDigest.String() + `","size":5}`
	}
	manifest := func(config string, layers ...string) []byte {
		return []byte(`{"schemaVersion":2,"config":` + config + `,"layers":[` + strings.Join(layers, ",") + `]}`)
	}
	ociLayer := desc(ocispec.MediaTypeImageLayerGzip)
	if _, err := ParseManifest(manifest(desc(ocispec.MediaTypeImageConfig), ociLayer, desc("application/vnd.docker.image.rootfs.diff.tar.gzip"))); err != nil {
		t.Errorf("an image: %v", err)
	}
	many := make([]string, MaxLayers)
	for i := range many {
		many[i] = ociLayer
	}
	if _, err := ParseManifest(manifest(desc(ocispec.MediaTypeImageConfig), many...)); err != nil {
		t.Errorf("%d layers: %v", MaxLayers, err)
	}
	for name, raw := range map[string][]byte{
		"a Helm chart's config": manifest(desc("application/vnd.cncf.helm.config.v1+json")),
		"a Helm chart's layer":  manifest(desc(ocispec.MediaTypeImageConfig), desc("application/vnd.cncf.helm.chart.content.v1.tar+gzip")),
		"126 layers":            manifest(desc(ocispec.MediaTypeImageConfig), append(many, ociLayer)...),
	} {
		if _, err := ParseManifest(raw); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want a one-line refusal", name, err)
		}
	}
}

func FuzzParseIndex(f *testing.F) {
	for _, s := range []string{
		`{"schemaVersion":2,"manifests":[{"digest":"` + fuzzDigest.String() + `","size":1,"platform":{"os":"linux","architecture":"amd64"}},{"digest":"` + fuzzDigest.String() + `","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`,
		`{"manifests":[{"digest":"sha256:../../x","platform":{"os":"linux","architecture":"amd64"}}]}`,
		`{"manifests":[{"digest":"` + fuzzDigest.String() + `","platform":{"os":"unknown","architecture":"unknown"}}]}`,
		`{"manifests":[{"digest":"` + fuzzDigest.String() + `"}]}`, `{}`, `null`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "linux/arm64")
	}
	f.Fuzz(func(t *testing.T, raw []byte, platform string) {
		idx, err := ParseIndex(raw)
		if err != nil {
			return
		}
		validDescriptors(t, "index", idx.Manifests...)
		want, err := ParsePlatform(platform)
		if err != nil {
			return
		}
		chosen, err := ChoosePlatform(idx, want)
		if err != nil {
			return
		}
		found := false
		for _, m := range idx.Manifests {
			found = found || m.Digest == chosen.Digest
		}
		if !found || !matches(chosen.Platform, want) {
			t.Fatalf("ChoosePlatform(%s) chose %+v, not an entry for it", PlatformString(want), chosen)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + fuzzDigest.String() + `"]},"config":{"Env":["A=b"],"Cmd":["sh"]}}`,
		`{"rootfs":{"diff_ids":["` + fuzzDigest.String() + `","sha256:../../../../etc"]}}`,
		`{"rootfs":{"diff_ids":["sha256:../../../.."]}}`,
		`{"rootfs":{"diff_ids":[]}}`, `{}`, `null`, `{"rootfs":{"diff_ids":[""]}}`,
	} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, raw []byte, layers uint8) {
		cfg, err := ParseConfig(raw, int(layers))
		if err != nil {
			return
		}
		if len(cfg.RootFS.DiffIDs) != int(layers) {
			t.Fatalf("%d diff IDs accepted for %d layers", len(cfg.RootFS.DiffIDs), layers)
		}
		s, _ := store.Open(t.TempDir())
		for _, d := range cfg.RootFS.DiffIDs {
			dir, err := s.LayerDir(d)
			if err != nil || filepath.Dir(dir) != filepath.Join(s.Root, "layers") {
				t.Fatalf("accepted diff ID %q makes the layer folder %q (%v)", d, dir, err)
			}
		}
	})
}

func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"", "linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "LINUX/X86_64", "linux/amd64/v1",
		"windows/amd64", "linux", "/", "a/b/c/d", "linux//", " linux/amd64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			return
		}
		if p.OS == "" || p.Architecture == "" || strings.Contains(p.OS+p.Architecture+p.Variant, "/") {
			t.Fatalf("ParsePlatform(%q) = %+v", s, p)
		}
		p2, err := ParsePlatform(PlatformString(p))
		if err != nil || p2.OS != p.OS || p2.Architecture != p.Architecture || p2.Variant != p.Variant {
			t.Fatalf("ParsePlatform(%q) = %+v, printed %q parses as %+v, %v", s, p, PlatformString(p), p2, err)
		}
	})
}

// FuzzDockerArchive: a `docker save` / OCI archive (a tar) is unpacked
// as load does (extractPlain) into a scratch folder, and its
// manifest.json parsed (parseDockerManifest): nothing is written outside
// the scratch folder, and every file name accepted stays inside it.
func FuzzDockerArchive(f *testing.F) {
	tarOf := func(entries ...tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			body := []byte(h.Linkname)
			if h.Typeflag == tar.TypeReg {
				h.Size = int64(len(body))
				h.Linkname = ""
			}
			tw.WriteHeader(&h)
			if h.Typeflag == tar.TypeReg {
				tw.Write(body)
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	reg := func(name, body string) tar.Header {
		return tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Linkname: body}
	}
	f.Add(tarOf(reg("manifest.json", `[{"Config":"c.json","RepoTags":["a:b"],"Layers":["l/layer.tar","m/layer.tar"]}]`),
		reg("c.json", "{}"), reg("l/layer.tar", "x"), tar.Header{Name: "m/layer.tar", Typeflag: tar.TypeSymlink, Linkname: "../l/layer.tar"}))
	f.Add(tarOf(reg("manifest.json", `[{"Config":"../../etc/passwd","Layers":["/etc/shadow"]}]`)))
	f.Add(tarOf(tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "/"}, reg("manifest.json", `[{"Config":"x/etc/passwd"}]`)))
	f.Add(tarOf(tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "b"}, tar.Header{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "a"},
		reg("manifest.json", `[{"Config":"a"}]`)))
	f.Add(tarOf(reg("../escape", "x"), reg("/abs", "y"), reg("dir/../../up", "z")))
	f.Add(tarOf(reg("manifest.json", `[{"RepoTags":["UPPER"]}]`)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, archive []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "archive")
		os.Mkdir(dir, 0o755)
		links, err := extractPlain(bytes.NewReader(archive), dir, func(int64) error { return nil })
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Fatalf("extractPlain wrote next to its folder: %d entries in %s", len(entries), parent)
		}
		if err != nil {
			return
		}
		for name, target := range links {
			for _, n := range []string{name, target} {
				if inside(n) != nil {
					t.Fatalf("symlink %q -> %q kept: %v", name, target, inside(n))
				}
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			return
		}
		dm, err := parseDockerManifest(b, links)
		if err != nil {
			return
		}
		for _, e := range dm {
			for _, n := range append([]string{e.Config}, e.Layers...) {
				if err := inside(n); err != nil {
					t.Fatalf("manifest.json name %q accepted: %v", n, err)
				}
			}
		}
	})
}

// inside checks that name is clean, relative and does not climb out.
func inside(name string) error {
	if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || path.Clean(name) != name {
		return os.ErrInvalid
	}
	return nil
}
