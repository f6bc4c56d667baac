package unpack

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/gzip"

	"mini-docker/internal/testenv"
)

// debianTar is the uncompressed debian root filesystem tar, read once.
func debianTar(b *testing.B) []byte {
	b.Helper()
	f, err := os.Open(testenv.DebianTar(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkUnpackDebian unpacks the debian layer (already decompressed,
// in memory) with Unpack and, side by side, with GNU tar.
func BenchmarkUnpackDebian(b *testing.B) {
	testenv.Integration(b)
	data := debianTar(b)
	b.Run("unpack", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			b.StopTimer()
			dir, _ := os.MkdirTemp("", "bench-unpack-")
			b.StartTimer()
			if err := Unpack(bytes.NewReader(data), dir); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("gnu-tar", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			b.StopTimer()
			dir, _ := os.MkdirTemp("", "bench-tar-")
			cmd := exec.Command("tar", "-x", "--xattrs", "--numeric-owner", "-p", "-C", dir)
			cmd.Stdin = bytes.NewReader(data)
			b.StartTimer()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("tar: %v %s", err, out)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
}
