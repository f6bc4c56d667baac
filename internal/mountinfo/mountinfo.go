// Package mountinfo holds what every reader of /proc/self/mountinfo
// (proc(5)) needs: the kernel writes a space, tab, newline or backslash
// in a path or an option as a backslash and three octal digits (\040
// for a space), so that the fields stay separated by spaces.
//
// Parse reads its lines, the one parser of them: cgroupctl reads it to
// find the cgroup hierarchies (lesson 03), overlay to find an overlay's
// layers (lesson 04), mini-docker to find what a container left mounted
// (lesson 09), the lessons' probe and checks to show what a container
// sees.
package mountinfo

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Unescape undoes the kernel's \ooo escapes in a mountinfo field. A
// backslash not followed by three octal digits is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Mount is one line of mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2) (3)  (4)   (5)      (6)       (7)  (8)(9)    (10)       (11)
//
// Root, Point and Source are unescaped. Super is as the kernel wrote it:
// a value may hold a ',' as \054, so split it on ',' first and
// unescape each value.
type Mount struct {
	Root   string // (4) the part of the file system seen at Point: "/", or a bind mount's source
	Point  string // (5) the mount point
	Opts   string // (6) per-mount options: rw, ro, nosuid...
	FSType string // (9)
	Source string // (10)
	Super  string // (11) the file system's own options: lowerdir=...,upperdir=...
}

// Parse reads the lines of a mountinfo file. Mount points are chosen by
// whoever mounts, so a line without the shape (six fields, the optional
// ones, "-", a type and a source) is left out rather than trusted.
func Parse(text string) []Mount {
	var out []Mount
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		m := Mount{Root: Unescape(f[3]), Point: Unescape(f[4]), Opts: f[5], FSType: f[sep+1], Source: Unescape(f[sep+2])}
		if sep+3 < len(f) {
			m.Super = f[sep+3]
		}
		out = append(out, m)
	}
	return out
}

// Read parses /proc/PID/mountinfo: the mount table of PID's mount
// namespace ("self" for the caller's).
func Read(pid string) ([]Mount, error) {
	b, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		return nil, err
	}
	return Parse(string(b)), nil
}

// MountPoints lists the mount points of the calling process's mount
// namespace, in the order the kernel lists them.
func MountPoints() ([]string, error) {
	ms, err := Read("self")
	if err != nil {
		return nil, err
	}
	points := make([]string, len(ms))
	for i, m := range ms {
		points[i] = m.Point
	}
	return points, nil
}

// IsMountPoint reports whether path is a mount point in the calling
// process's mount namespace.
func IsMountPoint(path string) bool {
	points, _ := MountPoints()
	return slices.Contains(points, path)
}

// IsMountRoot reports whether path is the root of a mount, as statx(2)
// tells with STATX_ATTR_MOUNT_ROOT (Linux 5.8): one system call, where
// IsMountPoint reads and parses the whole table (a quarter of a
// millisecond). Unlike IsMountPoint it resolves symbolic links in path.
// A kernel without the attribute has the table read.
func IsMountRoot(path string) bool {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, 0, &st)
	if err == nil && st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	}
	return IsMountPoint(path)
}

// UnmountUnder detaches every mount below dir (umount -l), so that
// removing dir cannot delete through a live mount into what it shows.
func UnmountUnder(dir string) {
	points, _ := MountPoints()
	for _, p := range points {
		if strings.HasPrefix(p, dir+"/") {
			syscall.Unmount(p, syscall.MNT_DETACH)
		}
	}
}
