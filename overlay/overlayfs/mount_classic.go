package overlayfs

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// linkNameLen is the length of a short link name. Docker's l/ folder uses
// 26 characters and so stops at 128 layers; 6 base32 characters (a billion
// names) keep 500 layers under one page: 500 × len("ABCDEF:") = 3500 bytes.
const linkNameLen = 6

// mountClassic mounts with mount(2). The kernel copies the option string
// from one page of memory (copy_mount_options), so the whole string,
// every lower layer included, must fit in 4095 bytes. Image layers live in
// long digest folders (/var/lib/mini-docker/layers/sha256/<64 hex>), about
// 100 bytes each: a few dozen layers fill the page. When it does not fit,
// do what Docker's overlay2 driver does: give each layer a short symlink
// name in one folder, mount from inside that folder, and list the short
// relative names instead.
func mountClassic(o Options, p *explain.Printer) error {
	flags := uintptr(0)
	if o.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	data := optionString(o, "lowerdir", o.Lower)
	if len(data) < pageSize() {
		p.Argv(mountCommand(o, "lowerdir")...)
		if err := unix.Mount("overlay", o.Merged, "overlay", flags, data); err != nil {
			return classicError(o, err)
		}
		return nil
	}
	if o.LinkDir == "" {
		return hinted("use the new mount API (--method fsconfig, Linux 6.8+), or give a folder for short layer links (--links DIR)",
			"mount overlay on %s: the option string is %d bytes, more than mount(2) takes (one page, %d bytes)", o.Merged, len(data), pageSize()-1)
	}
	names, err := shortLinks(o.LinkDir, o.Lower, p)
	if err != nil {
		return err
	}
	data = optionString(o, "lowerdir", names)
	if len(data) >= pageSize() {
		return hinted("use the new mount API (--method fsconfig, Linux 6.8+)",
			"mount overlay on %s: even with short layer links the option string is %d bytes, more than one page (%d)", o.Merged, len(data), pageSize()-1)
	}
	p.Argv("cd", o.LinkDir)
	p.Argv(append(mountCommand(o, "lowerdir")[:5], data, o.Merged)...)
	if err := mountFrom(o.LinkDir, o.Merged, flags, data); err != nil {
		return classicError(o, err)
	}
	return nil
}

func pageSize() int { return os.Getpagesize() }

// classicError explains a mount(2) failure. The kernel's reason goes to
// its log (dmesg), not to the caller, so point there.
func classicError(o Options, err error) error {
	if errors.Is(err, unix.ENODEV) {
		return overlayMissing()
	}
	if errors.Is(err, unix.EINVAL) {
		return hinted("the kernel logs its reason: dmesg | grep overlayfs | tail -1",
			"mount overlay on %s: %w", o.Merged, err)
	}
	return fmt.Errorf("mount overlay on %s: %w", o.Merged, err)
}

// mountFrom calls mount(2) with dir as the working directory, so the
// relative lower names resolve inside it. A Go program's threads share one
// working directory; this thread leaves the share (unshare CLONE_FS)
// before changing its own, and stays locked so the runtime discards it
// when the goroutine ends rather than reusing a thread with a changed
// working directory.
func mountFrom(dir, target string, flags uintptr, data string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare CLONE_FS: %w", err)
			return
		}
		if err := unix.Chdir(dir); err != nil {
			errc <- fmt.Errorf("cd %s: %w", dir, err)
			return
		}
		errc <- unix.Mount("overlay", target, "overlay", flags, data)
	}()
	return <-errc
}

// shortLinks makes (or reuses) a short symlink in linkDir for each layer
// and returns the names. A name is derived from the layer's path, so a
// layer shared by many containers has one link, as in Docker's l/ folder;
// links stay for the next mount.
func shortLinks(linkDir string, layers []string, p *explain.Printer) ([]string, error) {
	if err := os.MkdirAll(linkDir, 0o700); err != nil {
		return nil, fmt.Errorf("create link folder: %w", err)
	}
	names := make([]string, len(layers))
	for i, layer := range layers {
		name, err := shortLink(linkDir, layer, p)
		if err != nil {
			return nil, err
		}
		names[i] = name
	}
	return names, nil
}

func shortLink(linkDir, layer string, p *explain.Printer) (string, error) {
	for try := 0; try < 100; try++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", layer, try))
		name := base32.StdEncoding.EncodeToString(sum[:])[:linkNameLen]
		link := filepath.Join(linkDir, name)
		target, err := os.Readlink(link)
		if err == nil {
			if target == layer {
				return name, nil
			}
			continue // taken by another layer: next candidate
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("read link %s: %w", link, err)
		}
		p.Argv("ln", "-s", layer, link)
		if err := os.Symlink(layer, link); err != nil {
			if t, rerr := os.Readlink(link); errors.Is(err, os.ErrExist) && rerr == nil && t == layer {
				return name, nil // another mount made the same link just now
			}
			return "", fmt.Errorf("link layer %s as %s: %w", layer, link, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("no free short link name for %s in %s", layer, linkDir)
}
