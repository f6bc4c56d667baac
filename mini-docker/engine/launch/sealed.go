package launch

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// sealedCopy copies a tool's binary into a sealed memfd, for kernels
// without detached read-only mounts (see ReadOnlyExecutable): a sealed
// memfd cannot be written by anyone, so a process exec'd from it cannot
// be rewritten through /proc/PID/exe (runc's CVE-2019-5736).
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate(path[strings.LastIndex(path, "/")+1:], unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := copyInKernel(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s: %w", path, err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal %s: %w", path, err)
	}
	return f, nil
}

// copyInKernel copies the whole of src into the empty dst with
// sendfile(2), page cache to page cache: copy_file_range(2) (what
// io.Copy tries) refuses a copy from the host's disk to a memfd (EXDEV,
// two filesystems), and io.Copy then falls back to 32 KiB reads and
// writes through our memory, thousands of system calls for mini-docker's
// own 10 MB. If sendfile cannot start, io.Copy does it.
func copyInKernel(dst, src *os.File) error {
	st, err := src.Stat()
	if err != nil {
		return err
	}
	left := st.Size()
	for left > 0 {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(min(left, 1<<30)))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil && left == st.Size() {
			break // nothing copied yet: let io.Copy do it
		}
		if err != nil {
			return fmt.Errorf("sendfile: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("sendfile: %s shrank while being copied", src.Name())
		}
		left -= int64(n)
	}
	if left == 0 {
		return nil
	}
	_, err = io.Copy(dst, src)
	return err
}
