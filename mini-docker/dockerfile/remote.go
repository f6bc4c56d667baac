package dockerfile

import (
	"os"
	"path/filepath"
	"strconv"

	"mini-docker/mini-docker/dockerfile/remote"
)

// downloads fetches ADD's URL sources into a fresh folder, and returns
// it and the names to copy from it.
func (b *Builder) downloads(in Instruction, srcs []string, sum string) (string, []string, error) {
	dir, err := os.MkdirTemp(filepath.Join(b.s.Root, "ingest"), "build-add."+strconv.Itoa(os.Getpid())+".")
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, s := range srcs {
		if !remote.IsURL(s) {
			os.RemoveAll(dir)
			return "", nil, &ParseError{in.Line, "ADD: URLs and local files cannot be mixed in one ADD (split it in two)"}
		}
		name, err := remote.FileName(s)
		if err == nil {
			err = remote.Download(s, dir, name, sum, remote.MaxDownload)
		}
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		names = append(names, name)
	}
	return dir, names, nil
}
