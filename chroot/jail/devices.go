package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// docker run --device HOST[:CONTAINER]: a host device node made again,
// with mknod(2), inside the container's /dev (chroot --device). The node
// only names the device (a type and a major:minor number); whether the
// container may open it is the devices cgroup's rule (cgroupctl).

// errNotDevice is a path that is neither a device node nor a directory.
var errNotDevice = errors.New("not a device node")

// HostDevices reads the node at host (a symlink is followed, as Docker
// does) as the Device to make at ctr; a directory gives every node
// under it, each at the same place under ctr. Its error reads as
// Docker's daemon's (moby's devicesFromPath).
func HostDevices(host, ctr string) ([]Device, error) {
	resolved := host
	if p, err := filepath.EvalSymlinks(host); err == nil {
		resolved = p
	}
	d, err := deviceAt(resolved, ctr)
	if err == nil {
		return []Device{d}, nil
	}
	var devs []Device
	if st, serr := os.Stat(resolved); errors.Is(err, errNotDevice) && serr == nil && st.IsDir() {
		filepath.WalkDir(resolved, func(p string, _ fs.DirEntry, _ error) error {
			if d, err := deviceAt(p, ctr+strings.TrimPrefix(p, resolved)); err == nil {
				devs = append(devs, d)
			}
			return nil
		})
	}
	if len(devs) > 0 {
		return devs, nil
	}
	return nil, fmt.Errorf("error gathering device information while adding custom device %q: %w", host, err)
}

// deviceAt is the node at path as a Device at ctr: its type, number,
// permission bits and owner (containerd's DeviceFromPath).
func deviceAt(path, ctr string) (Device, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return Device{}, err
	}
	t := st.Mode & unix.S_IFMT
	if t != unix.S_IFCHR && t != unix.S_IFBLK && t != unix.S_IFIFO {
		return Device{}, errNotDevice
	}
	return Device{Path: ctr, Type: t, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev),
		Mode: os.FileMode(st.Mode & 0o777), UID: st.Uid, GID: st.Gid}, nil
}

// TypeLetter is the device's type as mknod(1) and the devices cgroup
// write it: c, b or p.
func (d Device) TypeLetter() string {
	return map[uint32]string{unix.S_IFCHR: "c", unix.S_IFBLK: "b", unix.S_IFIFO: "p"}[d.Type]
}
