package overlayfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"mini-docker/internal/testenv"
)

// BenchmarkMount measures one mount and unmount of a container's overlay
// over 1, 32, 128 and 200 image layers (in folders named like an image
// store's), with each method: the new mount API (one fsconfig call per
// layer) and classic mount(2) (short links once the option string passes
// one page). Run with: go test -run '^$' -bench Mount ./overlay/overlayfs
func BenchmarkMount(b *testing.B) {
	testenv.RequireRoot(b)
	for _, method := range []Method{MethodFsconfig, MethodMount} {
		for _, n := range []int{1, 32, 128, 200} {
			b.Run(fmt.Sprintf("%s/layers=%d", method, n), func(b *testing.B) {
				lower := digestLayers(b, n)
				dir := b.TempDir()
				o := Options{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"),
					Merged: filepath.Join(dir, "merged"), Method: method, LinkDir: filepath.Join(dir, "l")}
				for _, d := range []string{o.Upper, o.Work, o.Merged} {
					if err := os.Mkdir(d, 0o755); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for b.Loop() {
					undo, err := Mount(o, nil)
					if err != nil {
						b.Fatal(err)
					}
					if err := undo(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
