package imageops

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"
)

// HistoryRow is one line of `docker history`: a history entry of the
// config, with the size of its layer (0 for an empty_layer entry).
type HistoryRow struct {
	ID        string // the image ID for the top row, "<missing>" below (as Docker prints for pulled images)
	Created   time.Time
	CreatedBy string
	Size      int64 // bytes of the unpacked layer
	Comment   string
	DiffID    digest.Digest // empty for a metadata-only entry
}

// History returns the rows of docker history, newest first. Each
// non-empty entry of config.history owns the next layer of
// rootfs.diff_ids, in order; empty_layer entries own none.
func History(img *Image) ([]HistoryRow, error) {
	var rows []HistoryRow
	layer := 0
	for _, h := range img.Config.History {
		r := HistoryRow{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created != nil {
			r.Created = *h.Created
		}
		if !h.EmptyLayer {
			if layer >= len(img.Config.RootFS.DiffIDs) {
				return nil, fmt.Errorf("image %s: more non-empty history entries than layers", img.ID)
			}
			r.DiffID = img.Config.RootFS.DiffIDs[layer]
			if layer < len(img.LayerDirs) {
				r.Size = DirSize(img.LayerDirs[layer])
			}
			layer++
		}
		rows = append([]HistoryRow{r}, rows...)
	}
	if len(rows) > 0 {
		rows[0].ID = img.ID.Encoded()[:12]
	}
	return rows, nil
}

// UnpackedSize is docker images' SIZE of an image with these layers:
// the layers as unpacked on disk (moby sums each layer's unpacked
// files), not the compressed blobs.
func UnpackedSize(layerDirs []string) int64 {
	var n int64
	for _, d := range layerDirs {
		n += DirSize(d)
	}
	return n
}

// DirSize is what the files under dir take on disk, as moby counts it
// (directory.Size: its layers' SIZE, ps -s, system df): every file but
// directories, symbolic links by their length, a hard-linked inode once.
// A missing or empty dir is 0.
func DirSize(dir string) int64 {
	if dir == "" {
		return 0
	}
	var n int64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n
}

// HumanSize prints a size as Docker does (decimal units, 3 digits).
func HumanSize(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// Truncate shortens s to n characters with "…", as docker history does
// without --no-trunc.
func Truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
