package devicefilter

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// Apply makes rules the device access of the cgroup v2 group dir: the
// rules emulated and compiled, the program loaded, attached to dir
// (BPF_F_ALLOW_MULTI, as runc does: the programs of the group and of
// every ancestor must all allow), then the device programs attached
// there before it detached, so there is no moment without one. The
// attachment holds the program: once Apply returns, no file descriptor
// is left open, and removing the group (rmdir) frees it.
func Apply(dir string, rules []Rule, ex *explain.Printer) error {
	f, err := Emulate(rules)
	if err != nil {
		return err
	}
	prog := Compile(f)
	ex.Note("cgroup v2 has no devices controller: the rules become a BPF program of type cgroup/dev (%d instructions), loaded with bpf(BPF_PROG_LOAD):", len(prog))
	for i, in := range prog {
		ex.Note("  %3d: %s", i, in)
	}
	fd, err := Load(prog)
	if err != nil {
		return fmt.Errorf("device rules for %s: %w", dir, err)
	}
	defer unix.Close(fd)
	cg, old, err := openGroup(dir)
	if err != nil {
		return err
	}
	defer unix.Close(cg)
	ex.Cmd("bpftool cgroup attach %s device id %d multi", explain.Quote(dir), progID(fd))
	if err := attach(unix.BPF_PROG_ATTACH, cg, fd); err != nil {
		return fmt.Errorf("device rules: attach a cgroup/dev program to %s: %w", dir, err)
	}
	if err := detachIDs(dir, cg, old, ex); err != nil {
		return err
	}
	return nil
}

// Detach detaches every device program attached to the group dir (not
// those of its ancestors), as `bpftool cgroup detach` does for each.
func Detach(dir string, ex *explain.Printer) error {
	cg, ids, err := openGroup(dir)
	if err != nil {
		return err
	}
	defer unix.Close(cg)
	return detachIDs(dir, cg, ids, ex)
}

// Programs returns the IDs of the device programs attached to the group
// dir itself, as `bpftool cgroup show DIR` lists them.
func Programs(dir string) ([]uint32, error) {
	cg, ids, err := openGroup(dir)
	if err == nil {
		unix.Close(cg)
	}
	return ids, err
}

// openGroup opens the group dir (a program is attached to a group
// through a file descriptor of its directory) and lists the device
// programs attached to it.
func openGroup(dir string) (int, []uint32, error) {
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("device rules: open %s: %w", dir, err)
	}
	ids, err := query(cg)
	if err != nil {
		unix.Close(cg)
		return -1, nil, fmt.Errorf("device rules: query the programs of %s: %w", dir, err)
	}
	return cg, ids, nil
}

// detachIDs detaches the programs ids from the group open as cg: a
// program is named by a file descriptor, which its ID gives
// (BPF_PROG_GET_FD_BY_ID).
func detachIDs(dir string, cg int, ids []uint32, ex *explain.Printer) error {
	for _, id := range ids {
		ex.Cmd("bpftool cgroup detach %s device id %d", explain.Quote(dir), id)
		attr := struct{ id, next, flags uint32 }{id: id}
		fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if errors.Is(err, unix.ENOENT) {
			continue // detached and freed meanwhile
		}
		if err != nil {
			return fmt.Errorf("device rules: program %d of %s: %w", id, dir, err)
		}
		err = attach(unix.BPF_PROG_DETACH, cg, fd)
		unix.Close(fd)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("device rules: detach program %d from %s: %w", id, dir, err)
		}
	}
	return nil
}

// Load loads a device program and returns its file descriptor. The
// verifier checks it first; when it refuses, Load asks again with a log
// and returns the log's last line (the verifier's reason).
func Load(prog []Insn) (int, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	code := Encode(prog)
	license := []byte("Apache\x00") // no GPL-only helper is called
	attr := struct {
		progType, insnCnt            uint32
		insns, license               uint64
		logLevel, logSize            uint32
		logBuf                       uint64
		kernVersion, progFlags       uint32
		progName                     [16]byte
		progIfindex, expectedAttType uint32
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE, insnCnt: uint32(len(prog)),
		insns: addr(&pin, &code[0]), license: addr(&pin, &license[0]),
		expectedAttType: unix.BPF_CGROUP_DEVICE,
	}
	copy(attr.progName[:], "md_devices")
	// The verifier gives up with EAGAIN when a signal is pending, and the
	// Go runtime signals its threads (preemption): ask again, a few times.
	load := func() (fd int, err error) {
		for range 10 {
			if fd, err = bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); !errors.Is(err, unix.EAGAIN) {
				break
			}
		}
		return fd, err
	}
	fd, err := load()
	if err == nil {
		return fd, nil
	}
	log := make([]byte, 64*1024)
	attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), addr(&pin, &log[0])
	if fd2, err2 := load(); err2 == nil {
		unix.Close(fd2)
		return -1, fmt.Errorf("BPF_PROG_LOAD: %w (and loaded when asked again with a log)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(bytes.TrimRight(log, "\x00"))), "\n")
	return -1, fmt.Errorf("BPF_PROG_LOAD cgroup/dev: %w: %s", err, lines[len(lines)-1])
}

// attach attaches (BPF_PROG_ATTACH) or detaches (BPF_PROG_DETACH) the
// program fd as a device program of the group cg.
func attach(cmd, cg, fd int) error {
	attr := struct{ target, prog, typ, flags, replace uint32 }{target: uint32(cg), prog: uint32(fd), typ: unix.BPF_CGROUP_DEVICE}
	if cmd == unix.BPF_PROG_ATTACH {
		attr.flags = unix.BPF_F_ALLOW_MULTI // detach takes no flag: EINVAL
	}
	_, err := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// query returns the IDs of the device programs attached to the group cg
// itself (BPF_PROG_QUERY without BPF_F_QUERY_EFFECTIVE).
func query(cg int) ([]uint32, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	ids := make([]uint32, 64) // the kernel's limit per group and type (BPF_CGROUP_MAX_PROGS)
	attr := struct {
		target, typ, queryFlags, attachFlags uint32
		progIDs                              uint64
		count, _                             uint32
	}{target: uint32(cg), typ: unix.BPF_CGROUP_DEVICE, progIDs: addr(&pin, &ids[0]), count: uint32(len(ids))}
	if _, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return nil, err
	}
	return ids[:attr.count], nil
}

// progID is the kernel's ID of the program fd (what bpftool names it
// by), from BPF_OBJ_GET_INFO_BY_FD; 0 when it cannot be read.
func progID(fd int) uint32 {
	var pin runtime.Pinner
	defer pin.Unpin()
	info := &struct{ typ, id uint32 }{}
	attr := struct {
		fd, infoLen uint32
		info        uint64
	}{fd: uint32(fd), infoLen: uint32(unsafe.Sizeof(*info)), info: addr(&pin, info)}
	if _, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return 0
	}
	return info.id
}

// addr is where p is, for a field of bpf_attr: the kernel reads it
// after Go has lost track of it as a pointer, so it is pinned (and so
// kept on the heap, where nothing moves it) until pin is unpinned.
func addr[T any](pin *runtime.Pinner, p *T) uint64 {
	pin.Pin(p)
	return uint64(uintptr(unsafe.Pointer(p)))
}

// bpf is the bpf(2) system call: a command and its union bpf_attr.
func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
