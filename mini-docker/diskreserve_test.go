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

// TestExitRecordedOnAFullDisk: a container fills the disk its state
// root is on, then exits 7. run still reports 7, and ps and inspect
// show it exited (its end written over the state file's own blocks);
// rm -f then frees the disk.
func TestExitRecordedOnAFullDisk(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	store := testenv.SmallDisk(t, 24<<20)
	md := func(args ...string) (string, string, int) {
		return runCmd(t, h.command(false, append([]string{"--root", store}, args...)...))
	}
	if out, errOut, code := md("pull", "-q", ref); code != 0 {
		t.Fatalf("pull into the small store: exit %d %s%s", code, out, errOut)
	}
	_, errOut, code := md("run", "--name", "fill", "--network", "none", ref, "sh", "-c", "dd if=/dev/zero of=/f bs=64k 2>/dev/null; exit 7")
	if code != 7 {
		t.Errorf("run that filled the disk: exit %d, want 7 (%s)", code, errOut)
	}
	if out, errOut, code := md("ps", "-a", "--format", "{{.Names}} {{.Status}}"); code != 0 || !strings.HasPrefix(out, "fill Exited (7)") {
		t.Errorf("ps -a on the full disk: exit %d %q %s", code, out, errOut)
	}
	if out, _, code := md("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "fill"); code != 0 || out != "exited 7\n" {
		t.Errorf("inspect on the full disk: exit %d %q", code, out)
	}
	if _, errOut, code := md("rm", "-f", "fill"); code != 0 {
		t.Errorf("rm -f: exit %d %s", code, errOut)
	}
	md("rmi", ref)
	h.assertNoLeaks()
}
