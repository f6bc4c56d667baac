package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// NetnsDir is where `ip netns` keeps named network namespaces: each name
// is an empty file with the namespace bind-mounted on top of it.
const NetnsDir = "/run/netns"

// ErrNoNetns is returned when a named namespace or a PID's namespace does
// not exist.
var ErrNoNetns = errors.New("network namespace not found")

// NS names a network namespace the way the classic tools do: by the name
// `ip netns` gives it, by the PID of a process living in it, or, for the
// zero NS, the caller's own namespace (the "host" side).
type NS struct {
	Name string // ip netns name: /run/netns/NAME
	PID  int    // a process in the namespace: /proc/PID/ns/net
}

// Named returns the namespace `ip netns` calls name.
func Named(name string) NS { return NS{Name: name} }

// OfPID returns the network namespace of process pid.
func OfPID(pid int) NS { return NS{PID: pid} }

// IsCurrent reports whether ns is the caller's own namespace.
func (ns NS) IsCurrent() bool { return ns.Name == "" && ns.PID == 0 }

// Path returns the file that holds the namespace open.
func (ns NS) Path() string {
	switch {
	case ns.Name != "":
		return filepath.Join(NetnsDir, ns.Name)
	case ns.PID != 0:
		return "/proc/" + strconv.Itoa(ns.PID) + "/ns/net"
	}
	return "/proc/self/ns/net"
}

func (ns NS) String() string {
	switch {
	case ns.Name != "":
		return "netns " + strconv.Quote(ns.Name)
	case ns.PID != 0:
		return "netns of pid " + strconv.Itoa(ns.PID)
	}
	return "current netns"
}

// ip returns the iproute2 command that acts inside ns, for --explain.
func (ns NS) ip() string {
	switch {
	case ns.Name != "":
		return "ip -n " + explain.Quote(ns.Name)
	case ns.PID != 0:
		return "nsenter -t " + strconv.Itoa(ns.PID) + " -n ip"
	}
	return "ip"
}

// target returns how `ip link set DEV netns X` names ns.
func (ns NS) target() string {
	if ns.Name != "" {
		return explain.Quote(ns.Name)
	}
	return strconv.Itoa(ns.PID)
}

// open returns a file descriptor on the namespace, with an error that
// says which namespace is missing.
func (ns NS) open() (netns.NsHandle, error) {
	if ns.IsCurrent() {
		return netns.Get()
	}
	if ns.Name != "" {
		if err := checkNetnsName(ns.Name); err != nil {
			return -1, err // a "../" name would escape /run/netns
		}
	}
	h, err := netns.GetFromPath(ns.Path())
	if err == nil {
		return h, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		if ns.PID != 0 {
			return -1, fmt.Errorf("%w: no process with pid %d", ErrNoNetns, ns.PID)
		}
		return -1, fmt.Errorf("%w: no %s", ErrNoNetns, ns.Path())
	}
	return -1, fmt.Errorf("open %s: %w", ns.Path(), err)
}

// handle returns a netlink socket opened inside ns. A netlink socket
// belongs to the namespace it was created in for its whole life, so one
// handle per namespace is enough: no thread has to stay inside.
//
// Every netlink handle of this package is made here, and only for the
// NETLINK_ROUTE family, the one `ip link`, `ip addr` and `ip route`
// speak. A handle made with no family list also opens XFRM and
// NETFILTER sockets, which fail with "protocol not supported" on a
// kernel where xfrm_user or nfnetlink is not loaded.
func (ns NS) handle() (*netlink.Handle, error) {
	if ns.IsCurrent() {
		return netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	fd, err := ns.open()
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	return netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
}

// Do runs fn on an OS thread that has joined ns, and returns its error.
// Sockets fn creates stay in ns for their whole life, whichever thread
// later uses them.
func (ns NS) Do(fn func() error) error {
	if ns.IsCurrent() {
		return fn()
	}
	fd, err := ns.open()
	if err != nil {
		return err
	}
	defer fd.Close()
	return doIn(fd, ns.String(), fn)
}

// checkNetnsName rejects names the kernel or /run/netns would refuse or
// misread.
func checkNetnsName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/ \t\n\x00") {
		return fmt.Errorf("invalid network namespace name %q", name)
	}
	return nil
}

// NetnsAdd creates a named network namespace exactly as `ip netns add`
// does, so `ip netns exec NAME ...` and `nsenter --net=/run/netns/NAME`
// find it, and returns how to delete it.
//
// A namespace lives as long as something holds it: a process inside, an
// open file descriptor, or a bind mount of its /proc/.../ns/net file. A
// named namespace is that last kind: the mount keeps it alive with no
// process inside.
func NetnsAdd(name string, ex *explain.Printer) (undo func() error, err error) {
	if err := checkNetnsName(name); err != nil {
		return nil, err
	}
	ex.Cmd("ip netns add %s", explain.Quote(name))
	if err := makeNetnsDirShared(); err != nil {
		return nil, err
	}
	path := filepath.Join(NetnsDir, name)
	// The mount point: an empty file, created exclusively so two callers
	// can never share a name.
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("add netns %q: %s already exists", name, path)
		}
		return nil, fmt.Errorf("add netns %q: %w", name, err)
	}
	f.Close()
	if err := unshareAndBind(path); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("add netns %q: %w", name, err)
	}
	return func() error { return NetnsDel(name, nil) }, nil
}

// makeNetnsDirShared makes /run/netns a shared mount point, as iproute2
// does, so a namespace mounted there later also appears in mount
// namespaces copied from this one (and its unmount reaches them too):
// otherwise a container started before `netns del` would keep the
// namespace pinned forever.
func makeNetnsDirShared() error {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", NetnsDir, err)
	}
	err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("make %s shared: %w", NetnsDir, err)
	}
	// EINVAL: not a mount point yet. Bind it onto itself, then retry.
	if err := unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s onto itself: %w", NetnsDir, err)
	}
	if err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make %s shared: %w", NetnsDir, err)
	}
	return nil
}

// unshareAndBind creates a new network namespace on a thread of its own
// and bind-mounts that thread's namespace file onto path.
func unshareAndBind(path string) error {
	return onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		return nil
	}, func() error {
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount the new namespace on %s: %w", path, err)
		}
		return nil
	})
}

// NetnsDel deletes a named namespace as `ip netns del` does: unmount
// the file that kept it alive and remove it. The kernel frees the
// namespace (and the veth ends inside it, which takes their peers with
// them) once no process is left inside.
func NetnsDel(name string, ex *explain.Printer) error {
	if err := checkNetnsName(name); err != nil {
		return err
	}
	path := filepath.Join(NetnsDir, name)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete netns %q: %w: no %s", name, ErrNoNetns, path)
		}
		return fmt.Errorf("delete netns %q: %w", name, err)
	}
	ex.Cmd("ip netns del %s", explain.Quote(name))
	// MNT_DETACH: unmount even while a process holds the mount busy.
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete netns %q: umount %s: %w", name, path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("delete netns %q: %w", name, err)
	}
	return nil
}

// NetnsList returns the names in /run/netns, sorted.
func NetnsList() ([]string, error) {
	ents, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", NetnsDir, err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
