// Package overlayfs builds a container's root filesystem the way Docker's
// overlay2 driver does: read-only image layers stacked under one writable
// layer, merged by the kernel's overlay filesystem.
//
// The model (lesson 04):
//
//	MERGED   what the container sees: the union of everything below
//	  UPPER  the container's own layer: writes land here (copy-up),
//	         deletions leave whiteouts (character device 0/0), a replaced
//	         directory is marked opaque (xattr trusted.overlay.opaque=y)
//	  LOWER  the image's layers, read-only, listed TOP-FIRST: Lower[0]
//	         hides what the same path holds in Lower[1], and so on down
//	         to the image's base layer, last
//	WORK     the kernel's scratch folder, on the same mount as UPPER,
//	         where it prepares a copy-up before renaming it into place
//
// Layer order: everywhere in this package (Options.Lower, Layers.Lower,
// Diff's lower argument) lower layers are listed top-first, the order the
// kernel's lowerdir option uses. An image store lists its layers base-first
// (OCI manifest order); turn such a list around with TopFirst.
//
// This file is the lesson, top to bottom: check the kernel's rules, mount
// with the new mount API (one fsconfig call per layer, so hundreds of layers
// fit) or with classic mount(2) (one option string of at most one page,
// shortened with symlinks when it does not fit), and unmount.
//
// Lesson 04 (lessons/04-overlayfs.md) teaches it.
package overlayfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// MaxLowerLayers is the kernel's cap on stacked lower layers
// (OVL_MAX_STACK in fs/overlayfs/params.h). Docker stops at 128.
const MaxLowerLayers = 500

// Method says which system calls make the mount.
type Method string

const (
	// MethodAuto uses the new mount API where the kernel has fsopen and
	// the lowerdir+ parameter (Linux 6.8+), classic mount(2) otherwise.
	MethodAuto Method = ""
	// MethodFsconfig: fsopen, one fsconfig per option, fsmount, move_mount.
	MethodFsconfig Method = "fsconfig"
	// MethodMount: classic mount(2) with one option string.
	MethodMount Method = "mount"
)

// Options describe one overlay mount.
type Options struct {
	// Lower are the read-only layers, TOP-FIRST (the kernel's order):
	// Lower[0] is the topmost layer, the last entry is the base layer.
	Lower []string
	// Upper is the writable layer and Work the kernel's scratch folder,
	// on the same mount. Both are empty for a read-only overlay.
	Upper, Work string
	// Merged is the mount point.
	Merged string
	// ReadOnly mounts only the lower layers: no Upper, no Work. The kernel
	// then needs at least two lower layers.
	ReadOnly bool
	// Method picks the system calls (MethodAuto when empty).
	Method Method
	// LinkDir is where classic mount(2) puts short symlinks to the layers
	// when the full option string would not fit in one page (Docker's l/
	// folder). Empty: a long layer list fails with MethodMount.
	LinkDir string
	// Volatile drops the syncs of the upper layer (overlay's "volatile"
	// option, Linux 5.10+): no sync at unmount, when overlay would flush
	// the whole file system the upper layer lives on (tens of ms on a
	// busy disk). For a container removed when it ends (run --rm), whose
	// upper layer nothing reads after a crash: Podman mounts those so too.
	Volatile bool
}

// TopFirst returns layer folders listed base-first (an image's order) in
// the kernel's top-first order.
func TopFirst(baseFirst []string) []string {
	s := slices.Clone(baseFirst)
	slices.Reverse(s)
	return s
}

// Mount mounts the overlay o describes and returns how to unmount it.
// Nothing is left mounted when it fails.
func Mount(o Options, p *explain.Printer) (undo func() error, err error) {
	if o.Method != MethodAuto && o.Method != MethodFsconfig && o.Method != MethodMount {
		return nil, fmt.Errorf("unknown mount method %q (want %q or %q)", o.Method, MethodFsconfig, MethodMount)
	}
	o, err = o.absolute()
	if err != nil {
		return nil, err
	}
	// 1. The kernel's rules, checked first so that a refusal says which
	//    rule was broken instead of the kernel's bare EINVAL.
	if err := checkRules(o); err != nil {
		return nil, err
	}
	if err := requireOverlay(procFilesystems); err != nil {
		return nil, err
	}
	// 2. The mount itself.
	switch o.Method {
	case MethodFsconfig:
		err = mountFsconfig(o, p)
	case MethodMount:
		err = mountClassic(o, p)
	case MethodAuto:
		err = errNoNewAPI
		if HasLowerdirPlus() {
			err = mountFsconfig(o, p)
		}
		if errors.Is(err, errNoNewAPI) {
			err = mountClassic(o, p)
		}
	}
	if err != nil {
		return nil, err
	}
	return func() error { return Unmount(o.Merged, p) }, nil
}

// Unmount detaches the overlay mounted on merged. The kernel refuses with
// EBUSY while a process has its working directory or an open file in it;
// the error says so.
func Unmount(merged string, p *explain.Printer) error {
	abs, err := filepath.Abs(merged)
	if err != nil {
		return err
	}
	m, err := findMount(mountinfoPath, abs)
	if err != nil {
		return err
	}
	if m.FSType != "overlay" {
		return fmt.Errorf("unmount %s: it is a %s mount, not an overlay", abs, m.FSType)
	}
	p.Argv("umount", abs)
	if err := unix.Unmount(abs, 0); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return &Error{Err: fmt.Errorf("unmount %s: the mount is busy: a process still has its working directory or an open file in it: %w", abs, err),
				Hint: fmt.Sprintf("find it with 'fuser -vm %s', stop it, then retry", abs)}
		}
		return fmt.Errorf("unmount %s: %w", abs, err)
	}
	return nil
}

// Error is an error with a hint telling the user how to fix it. The
// command turns the hint into its "overlay: hint:" line.
type Error struct {
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func hinted(hint string, format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...), Hint: hint}
}

// absolute returns o with every path made absolute and cleaned: classic
// mount(2) may run from the link folder, and /proc/self/mountinfo shows
// paths exactly as they were given.
func (o Options) absolute() (Options, error) {
	abs := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		return filepath.Abs(p)
	}
	var err error
	out := o
	out.Lower = make([]string, len(o.Lower))
	for i, l := range o.Lower {
		if l == "" {
			return o, hinted("lower dirs are separated by ':'; remove the empty entry", "lower dir %d of %d is empty", i+1, len(o.Lower))
		}
		if out.Lower[i], err = abs(l); err != nil {
			return o, err
		}
	}
	for _, f := range []*string{&out.Upper, &out.Work, &out.Merged, &out.LinkDir} {
		if *f, err = abs(*f); err != nil {
			return o, err
		}
	}
	return out, nil
}
