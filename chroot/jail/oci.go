package jail

import (
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// The mounts of an OCI runtime spec (config.json's "mounts"): instead of
// Docker's fixed set (Options.Docker), the bundle lists every mount, in
// order, each a mount(2) call with mount(8)'s options. An OCI runtime
// (runc's libcontainer/rootfs_linux.go) does four kinds:
//
//   - a bind mount ("bind" or "rbind" among the options): the source is a
//     host path; read-only and the other flags need a second step, a
//     remount of the bind;
//   - the cgroup filesystem: the container's own group, as mountCgroupfs
//     shows it;
//   - sysfs: refused by the kernel in a user namespace that does not own
//     the network namespace, where the host's /sys is bound instead;
//   - everything else (proc, tmpfs, devpts, mqueue, ...): a new instance
//     of the filesystem, its options split into flags and the data the
//     filesystem reads.
//
// A tmpfs on /dev gets the default device nodes and links the runtime
// spec requires (runc's setupDev), and the bundle's own devices
// (linux.devices) are made after every mount.

// Mount is one entry of an OCI runtime spec's mounts list.
type Mount struct {
	Type, Source, Target string
	Flags                uintptr // MS_* flags from the options
	Propagation          uintptr // MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, maybe with MS_REC
	Data                 string  // the options the filesystem reads (mode=755, size=...)
}

// Device is a device node of the OCI spec's linux.devices.
type Device struct {
	Path         string // inside the root, like /dev/fuse
	Type         uint32 // unix.S_IFCHR, S_IFBLK or S_IFIFO
	Major, Minor uint32
	Mode         os.FileMode // permission bits
	UID, GID     uint32
}

// mountFlags are mount(8)'s options that are flags of mount(2), and
// whether the option sets (true) or clears the flag.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "remount": {false, unix.MS_REMOUNT},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"silent": {false, unix.MS_SILENT}, "loud": {true, unix.MS_SILENT},
}

// propagations are the options that set a mount's propagation type.
var propagations = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ParseMount reads an OCI mount's options as mount(8) does: flags, a
// propagation type, and the rest joined as the filesystem's data.
func ParseMount(typ, source, target string, options []string) Mount {
	m := Mount{Type: typ, Source: source, Target: target}
	for _, o := range options {
		if o == "" {
			continue // mount(8) skips empty options ("a,,b")
		}
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				m.Flags &^= f.flag
			} else {
				m.Flags |= f.flag
			}
			continue
		}
		if p, ok := propagations[o]; ok {
			m.Propagation = p
			continue
		}
		if m.Data != "" {
			m.Data += ","
		}
		m.Data += o
	}
	if typ == "bind" {
		m.Flags |= unix.MS_BIND
	}
	return m
}

// mountList does o.Mounts in order, then the devices.
func mountList(root string, o Options, ex *explain.Printer) error {
	dev, devpts := false, false
	for _, m := range o.Mounts {
		dev = dev || (filepath.Clean(m.Target) == "/dev" && m.Flags&unix.MS_BIND == 0)
		devpts = devpts || m.Type == "devpts"
	}
	for _, m := range o.Mounts {
		if err := mountOne(root, m, ex); err != nil {
			return err
		}
		if filepath.Clean(m.Target) == "/dev" && dev {
			if err := populateDev(root, devpts, ex); err != nil {
				return err
			}
		}
	}
	for _, d := range o.Devices {
		if err := makeNode(root, d, ex); err != nil {
			return err
		}
	}
	return nil
}

// mountOne does one mount of the list, then its propagation.
func mountOne(root string, m Mount, ex *explain.Printer) error {
	var err error
	switch {
	case m.Flags&unix.MS_BIND != 0:
		err = bindWithFlags(root, m, ex)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		err = mountCgroupfs(root, m.Flags&unix.MS_RDONLY == 0, ex)
	case m.Type == "sysfs":
		err = mountSys(root, m.Flags&unix.MS_RDONLY == 0, ex)
	default:
		err = mountFS(root, m.Target, m.Source, m.Type, m.Flags, m.Data, ex)
	}
	if err != nil || m.Propagation == 0 {
		return err
	}
	dst, err := securejoin.SecureJoin(root, m.Target)
	if err != nil {
		return err
	}
	return mount(ex, "", dst, "", m.Propagation, "")
}

// bindWithFlags binds m.Source at m.Target; the flags other than the
// bind's own (ro, nosuid, ...) take a remount, which must repeat the
// flags the mount is locked with.
func bindWithFlags(root string, m Mount, ex *explain.Printer) error {
	if err := bindMount(root, Bind{Src: m.Source, Dst: m.Target}, ex); err != nil {
		return err
	}
	extra := m.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if extra == 0 {
		return nil
	}
	dst, err := securejoin.SecureJoin(root, m.Target)
	if err != nil {
		return err
	}
	ex.Argv(mountArgv("", dst, "", extra, "remount,bind")...)
	if err := unix.Mount("", dst, "", lockedFlags(dst)|extra|unix.MS_REMOUNT|unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("remount %s: %w", m.Target, err)
	}
	return nil
}

// populateDev makes the device nodes and links every container's /dev
// holds (the runtime spec's "Default Devices"), in a /dev tmpfs. /dev/core
// only where the kernel has a /proc/kcore to point at
// (CONFIG_PROC_KCORE), as runc does: no dangling link otherwise. With
// devpts, /dev/ptmx is the multiplexer of the jail's own devpts
// instance, not the host's.
func populateDev(root string, devpts bool, ex *explain.Printer) error {
	dev := filepath.Join(root, "dev")
	for _, d := range devices {
		if err := makeDevice(dev, d, ex); err != nil {
			return err
		}
	}
	links := [][2]string{{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	if devpts {
		links = append(links, [2]string{"pts/ptmx", "ptmx"})
	}
	for _, l := range links {
		ex.Argv("ln", "-s", l[0], filepath.Join(dev, l[1]))
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil && !os.IsExist(err) {
			return fmt.Errorf("create /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// makeNode makes one of the bundle's device nodes, owned as it says.
func makeNode(root string, d Device, ex *explain.Printer) error {
	p, err := securejoin.SecureJoin(root, d.Path)
	if err != nil {
		return fmt.Errorf("resolve device %s: %w", d.Path, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create device %s: %w", d.Path, err)
	}
	kind := d.TypeLetter()
	ex.Argv("mknod", "-m", fmt.Sprintf("%o", d.Mode.Perm()), p, kind, fmt.Sprint(d.Major), fmt.Sprint(d.Minor))
	os.Remove(p) // the bundle's node replaces a default one of the same path
	if err := unix.Mknod(p, d.Type|uint32(d.Mode.Perm()), int(unix.Mkdev(d.Major, d.Minor))); err != nil {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	if err := os.Chmod(p, d.Mode.Perm()); err != nil {
		return err
	}
	return os.Lchown(p, int(d.UID), int(d.GID))
}
