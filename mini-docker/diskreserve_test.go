package main

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
)

// zerosTar writes a tar of one file of size zero bytes to a file of the
// test's, and returns its path.
func zerosTar(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "zeros.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// An archive that expands past the disk stops at its 5% reserve, as a
// pull or a load does, and leaves nothing: import (into a store on a
// 32 MiB disk) and cp - CONTAINER:DIR (into a bind of one), each fed
// 48 MiB of zeros; a small copy there goes after it.
func TestImportAndCpKeepTheDiskReserve(t *testing.T) {
	h := newHarness(t)
	zeros := zerosTar(t, 48<<20)

	store := testenv.SmallDisk(t, 32<<20)
	cmd := h.command(false, "--root", store, "import", zeros, "zeros:1")
	out, errOut, code := runCmd(t, cmd)
	if code == 0 || !strings.Contains(errOut, "disk reserve") {
		t.Errorf("import of 48 MiB into a 32 MiB store: exit %d\n%s%s\nwant a refusal naming the disk reserve", code, out, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(store, "ingest", "*")); len(left) > 0 {
		t.Errorf("the refused import left %v", left)
	}

	disk := testenv.SmallDisk(t, 32<<20)
	h.mustHost("run", "-d", "--name", "box", "--network", "none", "-v", disk+":/small", h.busybox(), "sleep", "300")
	in, err := os.Open(zeros)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd = h.command(false, "cp", "-", "box:/small")
	cmd.Stdin = in
	out, errOut, code = runCmd(t, cmd)
	if code == 0 || !strings.Contains(errOut, "disk reserve") {
		t.Errorf("cp - box:/small of 48 MiB onto a 32 MiB disk: exit %d\n%s%s\nwant a refusal naming the disk reserve", code, out, errOut)
	}
	if es, _ := os.ReadDir(disk); len(es) > 0 {
		t.Errorf("the refused copy left %d entries in the folder (%s...)", len(es), es[0].Name())
	}
	small := filepath.Join(t.TempDir(), "small")
	os.WriteFile(small, []byte("fits"), 0o644)
	h.mustHost("cp", small, "box:/small/")
	h.mustHost("rm", "-f", "box")
	h.assertNoLeaks()
}
