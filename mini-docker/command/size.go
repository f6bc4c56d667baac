package command

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// DirSize sums the sizes of the files under dir, a hard-linked file
// once, as Docker's directory.Size does (ps -s, system df).
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
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += info.Size()
		return nil
	})
	return n
}
