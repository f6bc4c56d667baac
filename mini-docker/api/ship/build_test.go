package ship

import (
	"archive/tar"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/mini-docker/api/wire"
)

func tarOf(t testing.TB, entries ...tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "x"
			h.Size = 1
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return b.Bytes()
}

// onlyInside fails when anything but dir appeared in dir's parent.
func onlyInside(t testing.TB, parent, dir string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if filepath.Join(parent, e.Name()) != dir {
			t.Fatalf("the context wrote %s outside its folder", e.Name())
		}
	}
}

// TestExtractContextStaysInside: a context's names and links never
// lead out of its folder, and what is inside is made.
func TestExtractContextStaysInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ctx")
	os.Mkdir(dir, 0o700)
	err := extractContext(bytes.NewReader(tarOf(t,
		tar.Header{Name: "Dockerfile", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "src/app.sh", Typeflag: tar.TypeReg, Mode: 0o755},
		tar.Header{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "/abs", Typeflag: tar.TypeReg, Mode: 0o644},
	)), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Dockerfile", "src/app.sh", "escaped", "abs"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "src/app.sh")); fi == nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("src/app.sh mode: %v", fi)
	}
	// A symlink out, then a file through it: refused, nothing outside.
	err = extractContext(bytes.NewReader(tarOf(t,
		tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: parent},
		tar.Header{Name: "out/planted", Typeflag: tar.TypeReg, Mode: 0o644},
	)), dir)
	if wire.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("a file through a symlink out of the context: %v, want a 400", err)
	}
	onlyInside(t, parent, dir)
}

// FuzzExtractContext: whatever the body, nothing is written outside
// the context's folder, and a refusal is the client's error (400).
func FuzzExtractContext(f *testing.F) {
	f.Add(tarOf(f, tar.Header{Name: "a/b", Typeflag: tar.TypeReg, Mode: 0o644}))
	f.Add(tarOf(f, tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: ".."}, tar.Header{Name: "l/x", Typeflag: tar.TypeReg}))
	f.Add(tarOf(f, tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "ctx")
		os.Mkdir(dir, 0o700)
		if err := extractContext(bytes.NewReader(body), dir); err != nil && wire.StatusOf(err) != http.StatusBadRequest {
			t.Fatalf("status %d for %v", wire.StatusOf(err), err)
		}
		onlyInside(t, parent, dir)
	})
}

func TestBuildOptions(t *testing.T) {
	q, _ := url.ParseQuery(`t=app:1&t=app:latest&dockerfile=../../etc/Dockerfile&buildargs={"A":"1","B":null}&nocache=1&q=1&networkmode=default`)
	o, quiet, err := BuildOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Tags) != 2 || o.Dockerfile != "etc/Dockerfile" || o.BuildArgs["A"] != "1" || len(o.BuildArgs) != 1 || !o.NoCache || !quiet || o.Network != "none" {
		t.Errorf("BuildOptions = %+v, quiet %v", o, quiet)
	}
	for _, bad := range []string{"t=UPPER:1", "buildargs=[1]", "networkmode=container:x", "dockerfile=/"} {
		q, _ := url.ParseQuery(bad)
		if _, _, err := BuildOptions(q); wire.StatusOf(err) != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400", bad, err)
		}
	}
}

// FuzzBuildOptions: any query is options or a 400, and the Dockerfile
// named is a path inside the context.
func FuzzBuildOptions(f *testing.F) {
	f.Add("t=a:1&dockerfile=sub/Dockerfile&buildargs={\"X\":\"y\"}&networkmode=host")
	f.Add("dockerfile=..%2F..%2Fx&q=1")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		o, _, err := BuildOptions(q)
		if err != nil {
			if wire.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("status %d for %v", wire.StatusOf(err), err)
			}
			return
		}
		if strings.HasPrefix(o.Dockerfile, "/") || o.Dockerfile == ".." || strings.HasPrefix(o.Dockerfile, "../") {
			t.Fatalf("dockerfile %q leads out of the context", o.Dockerfile)
		}
	})
}

// rawHeader is a ustar header block, made by hand: Go's tar writer
// will not write the GNU sparse records a hostile client can send.
func rawHeader(name string, typeflag byte, size int) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:], "ustar\x0000")
	copy(h[148:], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// paxRecord is one "LEN key=value\n" record, LEN counting itself.
func paxRecord(k, v string) string {
	body := " " + k + "=" + v + "\n"
	n := len(body) + 1
	for len(fmt.Sprint(n))+len(body) != n {
		n++
	}
	return fmt.Sprint(n) + body
}

// TestExtractContextSparse: a sparse entry of a terabyte, sent in a few
// bytes, is refused before it fills the disk.
func TestExtractContextSparse(t *testing.T) {
	recs := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", "huge") + paxRecord("GNU.sparse.realsize", "1099511627776")
	var b bytes.Buffer
	b.Write(rawHeader("PaxHeaders/huge", 'x', len(recs)))
	b.Write(append([]byte(recs), make([]byte, 512-len(recs)%512)...))
	b.Write(rawHeader("huge", '0', 512))
	b.Write(append([]byte("0\n"), make([]byte, 510)...)) // the sparse map: no data, all hole
	b.Write(make([]byte, 1024))
	parent := t.TempDir()
	dir := filepath.Join(parent, "ctx")
	os.Mkdir(dir, 0o700)
	err := extractContext(bytes.NewReader(b.Bytes()), dir)
	if wire.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("a sparse terabyte: %v, want a 400", err)
	} else if !strings.Contains(err.Error(), "sparse files are not supported") {
		t.Errorf("a sparse terabyte: %v, want the sparse refusal", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "huge")); err == nil && fi.Size() > 2<<20 {
		t.Errorf("wrote %d bytes of a sparse entry", fi.Size())
	}
}
