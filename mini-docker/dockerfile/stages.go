package dockerfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/imageops"
	"mini-docker/overlay/overlayfs"
	"mini-docker/pull/store"
)

// A multi-stage Dockerfile has several FROMs: each starts a stage, and
// a later stage takes files from an earlier one (COPY --from=NAME, or
// its number counted from 0) or starts from it (FROM NAME). Only the
// last stage (or --target's) becomes the tagged image; the others are
// images of the store that no tag names.

// stage is one FROM and what it has built so far.
type stage struct {
	name string          // AS NAME, lower case ("" without AS)
	img  *imageops.Image // nil while it is FROM scratch with no layer
}

// untilTarget cuts the instructions after the stage named target (the
// classic builder then counts only the steps it runs: "Step 3/7").
func untilTarget(ins []Instruction, target string) ([]Instruction, error) {
	if target == "" {
		return ins, nil
	}
	found := false
	for i, in := range ins {
		if in.Cmd != "FROM" {
			continue
		}
		if found {
			return ins[:i], nil
		}
		if name, ok := stageName(in.Args); ok && strings.EqualFold(name, target) {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("failed to reach build target %s in Dockerfile", target)
	}
	return ins, nil
}

// stageName is FROM's "AS NAME", lower case as Docker keeps it.
func stageName(args string) (string, bool) {
	w := strings.Fields(args)
	if len(w) == 3 && strings.EqualFold(w[1], "AS") {
		return strings.ToLower(w[2]), true
	}
	return "", false
}

// findStage returns the earlier stage called name, or numbered name.
func (b *Builder) findStage(name string) (*stage, bool) {
	// The current stage is the last one: it cannot be its own source.
	done := b.stages[:max(len(b.stages)-1, 0)]
	if n, err := strconv.Atoi(name); err == nil {
		if n >= 0 && n < len(done) {
			return done[n], true
		}
		return nil, false
	}
	for _, st := range done {
		if st.name != "" && st.name == strings.ToLower(name) {
			return st, true
		}
	}
	return nil, false
}

// sourceImage is what COPY --from=NAME reads: an earlier stage, or else
// an image (pulled when the store lacks it, as FROM does).
func (b *Builder) sourceImage(name string) (*imageops.Image, error) {
	if st, ok := b.findStage(name); ok {
		return st.img, nil
	}
	if _, err := strconv.Atoi(name); err == nil {
		return nil, fmt.Errorf("invalid from flag value %s: refers to current build stage or a stage that does not exist", name)
	}
	return b.image(name)
}

// image finds ref in the store, pulling it when it is missing.
func (b *Builder) image(ref string) (*imageops.Image, error) {
	img, err := imageops.Lookup(b.s, ref)
	if errors.Is(err, store.ErrNotFound) && b.o.Pull != nil {
		if perr := b.o.Pull(ref); perr != nil {
			return nil, fmt.Errorf("pull image %s: %w", ref, perr)
		}
		img, err = imageops.Lookup(b.s, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return img, nil
}

// mountImage shows img's files at a fresh folder, the way a container's
// root is made: the image's layers as overlay's lower layers, under an
// empty upper layer (a read-only overlay needs two lower layers, and an
// image may have one). undo unmounts it and removes the folders.
func mountImage(s *store.Store, img *imageops.Image, ex *explain.Printer) (root string, undo func(), err error) {
	tmp, err := os.MkdirTemp(filepath.Join(s.Root, "ingest"), "build-from."+strconv.Itoa(os.Getpid())+".")
	if err != nil {
		return "", nil, err
	}
	root = filepath.Join(tmp, "merged")
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			os.RemoveAll(tmp)
			return "", nil, err
		}
	}
	if img == nil || len(img.LayerDirs) == 0 {
		return root, func() { os.RemoveAll(tmp) }, nil // FROM scratch: nothing to see
	}
	unmount, err := overlayfs.Mount(overlayfs.Options{
		Lower: overlayfs.TopFirst(img.LayerDirs), Upper: filepath.Join(tmp, "upper"),
		Work: filepath.Join(tmp, "work"), Merged: root, LinkDir: filepath.Join(s.Root, "overlay", "l"),
	}, ex)
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	return root, func() {
		unmount()
		os.RemoveAll(tmp)
	}, nil
}
