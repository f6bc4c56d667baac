package jail

import (
	"fmt"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// A container's own mounts, docker run's -v, --mount and --tmpfs: bind
// mounts of host folders (a volume is one: its folder under the state
// root), and tmpfs mounts. They go on after the kernel filesystems, a
// parent before its children (moby sorts them so), so that a tmpfs on
// /data and a bind on /data/in both show.

// Tmpfs is a tmpfs mounted at Dst inside the root, with mount(8)-style
// Options ("nosuid,nodev,noexec,size=64m,mode=1777").
type Tmpfs struct {
	Dst, Options string
}

// Propagations are the propagation modes a bind may ask for, and the
// flags of mount(2) that set them (mount --make-rshared ...).
var Propagations = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
}

// userMounts mounts o's binds and tmpfs mounts, shallow ones first.
func userMounts(root string, o Options, ex *explain.Printer) error {
	type step struct {
		dst string
		do  func() error
	}
	var steps []step
	for _, b := range o.Binds {
		steps = append(steps, step{b.Dst, func() error { return bindMount(root, b, ex) }})
	}
	for _, t := range o.Tmpfs {
		steps = append(steps, step{t.Dst, func() error { return mountTmpfs(root, t, ex) }})
	}
	sort.SliceStable(steps, func(i, j int) bool {
		return strings.Count(strings.TrimRight(steps[i].dst, "/"), "/") < strings.Count(strings.TrimRight(steps[j].dst, "/"), "/")
	})
	for _, s := range steps {
		if err := s.do(); err != nil {
			return err
		}
	}
	return nil
}

// tmpfsFlags are the options of a tmpfs that are mount(2) flags: set
// (or, for their opposites, cleared); the rest goes to tmpfs as data.
var tmpfsFlags = map[string]struct {
	flag  uintptr
	clear bool
}{
	"ro": {unix.MS_RDONLY, false}, "rw": {unix.MS_RDONLY, true},
	"nosuid": {unix.MS_NOSUID, false}, "suid": {unix.MS_NOSUID, true},
	"nodev": {unix.MS_NODEV, false}, "dev": {unix.MS_NODEV, true},
	"noexec": {unix.MS_NOEXEC, false}, "exec": {unix.MS_NOEXEC, true},
	"sync": {unix.MS_SYNCHRONOUS, false}, "async": {unix.MS_SYNCHRONOUS, true},
	"dirsync": {unix.MS_DIRSYNC, false}, "noatime": {unix.MS_NOATIME, false}, "atime": {unix.MS_NOATIME, true},
	"nodiratime": {unix.MS_NODIRATIME, false}, "diratime": {unix.MS_NODIRATIME, true},
	"relatime": {unix.MS_RELATIME, false}, "norelatime": {unix.MS_RELATIME, true},
	"strictatime": {unix.MS_STRICTATIME, false}, "nostrictatime": {unix.MS_STRICTATIME, true},
}

// TmpfsFlags splits a tmpfs's options into mount(2)'s flags and the
// data tmpfs reads (size=, mode=, ...), a later option winning.
func TmpfsFlags(opts string) (uintptr, string) {
	var flags uintptr
	var data []string
	for _, o := range strings.Split(opts, ",") {
		if f, ok := tmpfsFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
		} else if o != "" {
			data = append(data, o)
		}
	}
	return flags, strings.Join(data, ",")
}

// mountTmpfs mounts a tmpfs inside the root. Its memory is charged to
// the container's memory cgroup, and it goes with the mount namespace.
func mountTmpfs(root string, t Tmpfs, ex *explain.Printer) error {
	dst, err := securejoin.SecureJoin(root, t.Dst)
	if err != nil {
		return fmt.Errorf("resolve tmpfs destination %s in %s: %w", t.Dst, root, err)
	}
	if err := makeMountPoint(dst, true); err != nil {
		return err
	}
	flags, data := TmpfsFlags(t.Options)
	return mount(ex, "tmpfs", dst, "tmpfs", flags, data)
}

// setPropagation gives a bind mount the propagation asked for. The
// mount namespace was made rprivate, so a bind starts private; shared
// makes it a peer group of its own, whose later submounts are seen by
// every copy of it.
func setPropagation(dst, prop string, ex *explain.Printer) error {
	if prop == "" || prop == "rprivate" {
		return nil
	}
	flags, ok := Propagations[prop]
	if !ok {
		return fmt.Errorf("bind on %s: invalid propagation mode: %s", dst, prop)
	}
	ex.Argv("mount", "--make-"+prop, dst)
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("mount --make-%s %s: %w", prop, dst, err)
	}
	return nil
}

// OCIMounts reads the mounts of an OCI runtime spec (bind and tmpfs,
// the kinds docker run's flags make) as the jail's binds and tmpfs
// mounts: how mini-docker hands its container's mounts to chroot.
func OCIMounts(ms []specs.Mount) ([]Bind, []Tmpfs) {
	var binds []Bind
	var tmpfs []Tmpfs
	for _, m := range ms {
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, Tmpfs{Dst: m.Destination, Options: strings.Join(m.Options, ",")})
			continue
		}
		b := Bind{Src: m.Source, Dst: m.Destination}
		for _, o := range m.Options {
			if _, ok := Propagations[o]; ok {
				b.Propagation = o
			}
			b.ReadOnly = b.ReadOnly || o == "ro"
		}
		binds = append(binds, b)
	}
	return binds, tmpfs
}

// Flag is b as chroot's --bind value, SRC:DST[:ro][,PROPAGATION].
func (b Bind) Flag() string {
	var opts []string
	if b.ReadOnly {
		opts = append(opts, "ro")
	}
	if b.Propagation != "" && b.Propagation != "rprivate" {
		opts = append(opts, b.Propagation)
	}
	v := b.Src + ":" + b.Dst
	if len(opts) > 0 {
		v += ":" + strings.Join(opts, ",")
	}
	return v
}

// Flag is t as chroot's --tmpfs value, DST[:OPTIONS].
func (t Tmpfs) Flag() string {
	if t.Options == "" {
		return t.Dst
	}
	return t.Dst + ":" + t.Options
}
