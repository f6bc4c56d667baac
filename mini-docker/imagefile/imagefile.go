// Package imagefile reads the files of an image that mini-docker needs
// on the host side, before the container runs: the image's /etc/passwd,
// for the container's HOME and for a build's COPY --chown NAME. An
// image is an attacker: each file is read as the container will see it,
// inside the image's root, and bounded. Lesson 09 sets HOME so.
package imagefile

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// Home returns the home folder of user (a name or uid, before any
// ":group") in the root filesystem at rootfs, "/" when unknown, as runc does.
func Home(rootfs, user string) string {
	u, _, _ := strings.Cut(user, ":")
	if u == "" {
		u = "0"
	}
	b, err := Read(rootfs, "etc/passwd")
	if err != nil {
		if u == "0" || u == "root" {
			return "/root"
		}
		return "/"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 6 && (f[0] == u || f[2] == u) {
			return f[5]
		}
	}
	return "/"
}

// maxSize bounds what Read reads: an image's /etc/passwd or
// /etc/group is never near it.
const maxSize = 8 << 20

// Read reads the file name (etc/passwd) of the folder root, a
// layer or a root filesystem, as the container will see it: its path,
// symlinks included, resolved inside root (os.Root), so an image's
// symlink to a host file reads nothing; a regular file only (a fifo
// would block, a device be opened on the host), at most 8 MiB.
func Read(root, name string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if fi, err := r.Stat(name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err == nil && len(b) > maxSize {
		err = fmt.Errorf("%s: larger than %d bytes", name, maxSize)
	}
	return b, err
}
