package container

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fiemapDelalloc reports whether the first extent of path is still
// delayed allocation (FIEMAP_EXTENT_DELALLOC): written to the page cache,
// no block chosen, no write to the disk started. ok is false when the file
// system does not map extents (FIEMAP) or path has none.
func fiemapDelalloc(t *testing.T, path string) (delalloc, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const fsIocFiemap = 0xC020660B // _IOWR('f', 11, struct fiemap)
	var buf struct {
		start, length                        uint64
		flags, mapped, count, reserved       uint32
		logical, physical, extLength, r1, r2 uint64
		extFlags, er1, er2, er3              uint32
	}
	buf.length, buf.count = ^uint64(0), 1
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf))); errno != 0 || buf.mapped == 0 {
		return false, false
	}
	return buf.extFlags&0x4 != 0, true // FIEMAP_EXTENT_DELALLOC
}

// A --rm container's state is swapped in without starting a disk write:
// replacing a file by rename(2) makes ext4 write the new file's data at
// once (auto_da_alloc), and that write is waited for when the file is
// replaced or removed next, milliseconds of each start on a busy disk.
// A container kept after its end still gets that write, so that a crash
// leaves its old state or its new one, not an empty file.
func TestAutoRemoveStateIsNotWrittenOut(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	control := filepath.Join(s.Root, "control")
	if err := os.WriteFile(control, []byte("written before the saves"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := fiemapDelalloc(t, control); !ok {
		t.Skip("the file system under the test's folder does not report extents (FIEMAP)")
	}
	kept, err := s.Create("", nil)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := s.Create("", func(c *Container) { c.HostConfig.AutoRemove = true })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Container{kept, removed} {
		c.State.Status = Running
		if err := s.Save(c); err != nil {
			t.Fatal(err)
		}
	}
	removedDelalloc, ok1 := fiemapDelalloc(t, s.StatePath(removed.ID))
	keptDelalloc, ok2 := fiemapDelalloc(t, s.StatePath(kept.ID))
	if d, _ := fiemapDelalloc(t, control); !d || !ok1 || !ok2 {
		t.Skip("this file system wrote everything out meanwhile (no delayed allocation, or a sync ran): nothing to tell apart")
	}
	if keptDelalloc {
		t.Skip("this file system does not write a file renamed over another out at once (ext4's auto_da_alloc): nothing to tell apart")
	}
	if !removedDelalloc {
		t.Error("saving a --rm container's state started writing it to the disk (rename over the old state: auto_da_alloc)")
	}
	for _, c := range []*Container{kept, removed} {
		got, err := s.Load(c.ID)
		if err != nil || got.State.Status != Running {
			t.Fatalf("Load = %+v, %v", got, err)
		}
		ents, _ := os.ReadDir(s.Dir(c.ID))
		for _, e := range ents {
			if e.Name() != "state.json" {
				t.Errorf("left behind %s", e.Name())
			}
		}
	}
}
