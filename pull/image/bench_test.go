package image_test

import (
	stdgzip "compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/gzip"

	"mini-docker/internal/testenv"
	"mini-docker/pull/image"
	"mini-docker/pull/store"
)

// BenchmarkPullCold pulls the debian image from the loopback registry
// into an empty store, side by side with the other ways to get the same
// root filesystem: skopeo copy + umoci unpack, docker pull (when an
// engine runs), and the floor, curl | zcat | tar -x.
func BenchmarkPullCold(b *testing.B) {
	testenv.Integration(b)
	reg := testenv.SharedRegistry(b)
	ref := testenv.PushDebian(b, reg)

	b.Run("pull", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			root, _ := os.MkdirTemp("", "bench-pull-")
			s, err := store.Open(root)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := image.Pull(context.Background(), s, ref, image.Options{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(root)
			b.StartTimer()
		}
	})
	b.Run("skopeo+umoci", func(b *testing.B) {
		testenv.RequireCommand(b, "skopeo")
		testenv.RequireCommand(b, "umoci")
		for b.Loop() {
			b.StopTimer()
			dir, _ := os.MkdirTemp("", "bench-umoci-")
			b.StartTimer()
			run(b, "skopeo", "copy", "--quiet", "--src-tls-verify=false", "--insecure-policy", "docker://"+ref, "oci:"+dir+"/layout:img")
			run(b, "umoci", "unpack", "--image", dir+"/layout:img", dir+"/bundle")
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("docker", func(b *testing.B) {
		if exec.Command("docker", "info").Run() != nil {
			b.Skip("no Docker engine running")
		}
		for b.Loop() {
			run(b, "docker", "pull", "-q", ref)
			b.StopTimer()
			// Cold again: the image must really be gone, or the next
			// round measures "Image is up to date".
			run(b, "docker", "rmi", "-f", ref)
			if exec.Command("docker", "image", "inspect", ref).Run() == nil {
				b.Fatal("docker rmi left the image: cannot measure a cold pull")
			}
			b.StartTimer()
		}
	})
	b.Run("curl-zcat-tar", func(b *testing.B) {
		testenv.RequireCommand(b, "curl")
		s := newStore(b)
		res := pull(b, s, ref)
		blob := "http://" + reg.Addr + "/v2/library/debian/blobs/" + res.Image.Manifest.Layers[0].Digest.String()
		for b.Loop() {
			b.StopTimer()
			dir, _ := os.MkdirTemp("", "bench-tar-")
			b.StartTimer()
			run(b, "sh", "-c", "curl -sf "+blob+" | zcat | tar -x -C "+dir)
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
}

// BenchmarkPullWarm pulls an image the store already holds: one manifest
// request, then "Image is up to date".
func BenchmarkPullWarm(b *testing.B) {
	testenv.Integration(b)
	ref := testenv.PushDebian(b, testenv.SharedRegistry(b))
	s := newStore(b)
	pull(b, s, ref)
	for b.Loop() {
		if res := pull(b, s, ref); res.Downloaded {
			b.Fatal("a warm pull downloaded")
		}
	}
}

// BenchmarkGunzip decompresses the debian layer with the standard
// library and with klauspost/compress (the one pull uses).
func BenchmarkGunzip(b *testing.B) {
	testenv.Integration(b)
	tarball := testenv.DebianTar(b)
	st, err := os.Stat(tarball)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"stdlib", func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }},
		{"klauspost", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
	} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				f, _ := os.Open(tarball)
				zr, err := impl.open(f)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, zr)
				f.Close()
			}
		})
	}
}

func run(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
