package store

import (
	"errors"
	"fmt"

	"github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// ErrReserve is returned when a write would leave the store's
// filesystem with less free space than its reserve.
var ErrReserve = errors.New("the store's disk reserve is reached")

// DefaultReserve is the part of the store's filesystem (percent of its
// blocks, and of its inodes) that a pull or a load leaves free: a
// layer that expands without end (stacked gzip members of zeros: 21 MB
// became 21 GiB) stops there instead of filling the disk.
const DefaultReserve = 5.0

// ReserveCheckEvery is how many bytes are written between two checks of
// the reserve: one statfs(2) per MiB costs nothing next to the writes,
// and a write can pass the reserve by no more than this.
const ReserveCheckEvery = 1 << 20

// CheckReserve fails with ErrReserve when writing ahead more bytes (and
// ahead/512 more inodes: a tar entry takes at least 512 bytes) would
// leave less than s.Reserve percent of the store's filesystem free.
func (s *Store) CheckReserve(ahead int64) error {
	if s.Reserve <= 0 {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(s.ingest, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", s.ingest, err)
	}
	return ReserveLeft(&st, s.Reserve, ahead, s.Root)
}

// ReserveLeft fails with ErrReserve when writing ahead more bytes (and
// ahead/512 more inodes) on the filesystem st describes would leave
// less than reserve percent of it free; where names it in the message.
func ReserveLeft(st *unix.Statfs_t, reserve float64, ahead int64, where string) error {
	bsize := st.Frsize
	if bsize == 0 {
		bsize = st.Bsize
	}
	total, avail := float64(st.Blocks)*float64(bsize), float64(st.Bavail)*float64(bsize)
	if keep := total * reserve / 100; avail-float64(ahead) < keep {
		return fmt.Errorf("%s free on the filesystem of %s, the reserve is %.0f%% (%s): %w",
			humanBytes(avail), where, reserve, humanBytes(keep), ErrReserve)
	}
	// Filesystems with a fixed inode table (ext4, tmpfs) run out of those too.
	if st.Files > 0 {
		if keep := float64(st.Files) * reserve / 100; float64(st.Ffree)-float64(ahead/512) < keep {
			return fmt.Errorf("%d inodes free on the filesystem of %s, the reserve is %.0f%% (%.0f): %w",
				st.Ffree, where, reserve, keep, ErrReserve)
		}
	}
	return nil
}

// Every turns check (CheckReserve, say) into a charge function for
// unpack.UnpackCharged and unpack.ChargedWriter: n bytes are about to
// be written, and check runs before the first and then once every
// ReserveCheckEvery bytes, for that many ahead.
func Every(check func(ahead int64) error) func(n int64) error {
	return every(check, ReserveCheckEvery)
}

// EveryAfter is Every without the check before the first byte: a small
// copy is never refused (mini-docker cp onto a nearly full disk, as
// docker cp), a large one is once it has written ReserveCheckEvery.
func EveryAfter(check func(ahead int64) error) func(n int64) error {
	return every(check, 0)
}

func every(check func(ahead int64) error, unchecked int64) func(n int64) error {
	return func(n int64) error {
		if unchecked += n; unchecked >= ReserveCheckEvery {
			unchecked = 0
			return check(ReserveCheckEvery)
		}
		return nil
	}
}

// humanBytes prints a size in binary units, as df -h does.
func humanBytes(f float64) string {
	return units.CustomSize("%.1f%s", f, 1024, []string{"B", "KiB", "MiB", "GiB", "TiB"})
}

// IsLocalWriteError reports whether err is the store's own disk failing
// (full, over quota, read-only, broken) rather than the content or the
// network: a pull then blames the disk, not the registry.
func IsLocalWriteError(err error) bool {
	for _, e := range []error{ErrReserve, unix.ENOSPC, unix.EDQUOT, unix.EFBIG, unix.EROFS, unix.EIO} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
