package caps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// File capabilities live in the extended attribute "security.capability"
// of an executable (struct vfs_cap_data in <linux/capability.h>). At
// execve the kernel computes the new permitted set from them:
//
//	P'(permitted) = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
//	P'(effective) = F(effective) ? P'(permitted) : P'(ambient)
//
// so "cap_net_bind_service+ep" on a binary lets any user who runs it bind
// ports below 1024, and nothing else (capabilities(7)).
const XattrName = "security.capability"

// The revisions of vfs_cap_data. All fields are little endian.
const (
	vfsCapRevision1 = 0x01000000 // 32 capabilities: magic, permitted, inheritable
	vfsCapRevision2 = 0x02000000 // 64 capabilities: magic, (permitted, inheritable) x2
	vfsCapRevision3 = 0x03000000 // revision 2 + the root uid of the user namespace (Linux 4.14)
	vfsCapRevMask   = 0xFF000000
	vfsCapEffective = 0x000001 // one bit: all of P' becomes effective, or none

	sizeV1 = 4 + 4*2
	sizeV2 = 4 + 4*4
	sizeV3 = sizeV2 + 4
)

// FileCaps is the content of a security.capability attribute.
type FileCaps struct {
	Permitted   Set
	Inheritable Set
	Effective   bool // the single effective bit
	// RootID, for revision 3, is the host uid that is root in the user
	// namespace the capabilities are valid in; they count only for
	// processes in that namespace or below it. 0 with Version 2.
	RootID  uint32
	Version int // 1, 2 or 3
}

// Encode returns the attribute's bytes: revision 2 (what setcap writes),
// or revision 3 when Version is 3 or RootID is not 0.
func (f FileCaps) Encode() []byte {
	size, magic := sizeV2, uint32(vfsCapRevision2)
	if f.Version == 3 || f.RootID != 0 {
		size, magic = sizeV3, vfsCapRevision3
	}
	if f.Effective {
		magic |= vfsCapEffective
	}
	b := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint32(b[0:], magic)
	le.PutUint32(b[4:], uint32(f.Permitted))
	le.PutUint32(b[8:], uint32(f.Inheritable))
	le.PutUint32(b[12:], uint32(f.Permitted>>32))
	le.PutUint32(b[16:], uint32(f.Inheritable>>32))
	if size == sizeV3 {
		le.PutUint32(b[20:], f.RootID)
	}
	return b
}

// DecodeFileCaps parses the bytes of a security.capability attribute
// (revisions 1, 2 and 3).
func DecodeFileCaps(b []byte) (FileCaps, error) {
	if len(b) < 4 {
		return FileCaps{}, fmt.Errorf("security.capability: %d bytes, too short", len(b))
	}
	le := binary.LittleEndian
	magic := le.Uint32(b)
	f := FileCaps{Effective: magic&vfsCapEffective != 0}
	want := 0
	switch magic & vfsCapRevMask {
	case vfsCapRevision1:
		f.Version, want = 1, sizeV1
	case vfsCapRevision2:
		f.Version, want = 2, sizeV2
	case vfsCapRevision3:
		f.Version, want = 3, sizeV3
	default:
		return FileCaps{}, fmt.Errorf("security.capability: unknown revision 0x%08x", magic&vfsCapRevMask)
	}
	if len(b) != want {
		return FileCaps{}, fmt.Errorf("security.capability: revision %d needs %d bytes, got %d", f.Version, want, len(b))
	}
	f.Permitted = Set(le.Uint32(b[4:]))
	f.Inheritable = Set(le.Uint32(b[8:]))
	if f.Version >= 2 {
		f.Permitted |= Set(le.Uint32(b[12:])) << 32
		f.Inheritable |= Set(le.Uint32(b[16:])) << 32
	}
	if f.Version == 3 {
		f.RootID = le.Uint32(b[20:])
	}
	return f, nil
}

// ParseFileCaps parses capabilities in the text form of cap_from_text(3),
// which setcap takes: clauses separated by blanks, each a list of names
// (or "all", or nothing for all) and operator/flags pairs:
//
//	cap_net_bind_service+ep
//	cap_chown,cap_fowner=eip
//	cap_chown+ep cap_fowner+eip
//	=ep                       (every capability)
//
// "=" sets the flags exactly, "+" adds, "-" removes; flags are e, i, p.
// The file's effective flag is one bit, so every capability that has e
// must be exactly the permitted and inheritable ones.
func ParseFileCaps(text string) (FileCaps, error) {
	var perm, inh, eff Set
	clauses := strings.Fields(text)
	if len(clauses) == 0 {
		return FileCaps{}, fmt.Errorf("no capabilities given (like cap_net_bind_service+ep)")
	}
	for _, clause := range clauses {
		i := strings.IndexAny(clause, "=+-")
		if i < 0 {
			return FileCaps{}, fmt.Errorf("%q: no operator (=, + or -) and flags (e, i, p), as in cap_net_bind_service+ep", clause)
		}
		var set Set
		if i == 0 {
			set = All()
		} else {
			s, err := ParseList(clause[:i])
			if err != nil {
				return FileCaps{}, err
			}
			set = s
		}
		rest := clause[i:]
		for rest != "" {
			op := rest[0]
			j := 1
			for j < len(rest) && !strings.ContainsRune("=+-", rune(rest[j])) {
				j++
			}
			flags := rest[1:j]
			rest = rest[j:]
			if op == '=' {
				perm, inh, eff = perm&^set, inh&^set, eff&^set
			}
			for _, fl := range flags {
				var target *Set
				switch fl {
				case 'p':
					target = &perm
				case 'i':
					target = &inh
				case 'e':
					target = &eff
				default:
					return FileCaps{}, fmt.Errorf("%q: unknown flag %q (use e, i, p)", clause, fl)
				}
				if op == '-' {
					*target &^= set
				} else {
					*target |= set
				}
			}
		}
	}
	f := FileCaps{Permitted: perm, Inheritable: inh, Effective: eff != 0, Version: 2}
	if eff != 0 && eff != perm|inh {
		return FileCaps{}, fmt.Errorf("%q: a file has one effective bit for all its capabilities: give e to all of them (%s) or to none", text, (perm | inh).String())
	}
	return f, nil
}

// String returns f the way getcap prints it: "cap_net_bind_service=ep",
// one clause per combination of flags, and " [rootid=N]" for revision 3.
func (f FileCaps) String() string {
	var eff Set
	if f.Effective {
		eff = f.Permitted | f.Inheritable
	}
	s := Text(f.Permitted, f.Inheritable, eff)
	if f.Version == 3 {
		s += " [rootid=" + strconv.FormatUint(uint64(f.RootID), 10) + "]"
	}
	return s
}

// SetFile writes f as the security.capability attribute of path (needs
// CAP_SETFCAP). The kernel removes the attribute again whenever the file
// is written to, so set it last.
func SetFile(path string, f FileCaps, ex *explain.Printer) error {
	ex.Argv("setcap", f.String(), path)
	fd, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("set %s on %s: %w", XattrName, path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, XattrName, f.Encode(), 0); err != nil {
		return fmt.Errorf("set %s on %s: %w", XattrName, path, err)
	}
	return nil
}

// errNotRegular refuses what setcap refuses: file capabilities belong
// to a regular file, and a symbolic link is not followed (in a root
// filesystem that is an image, its target may be a host file).
var errNotRegular = errors.New("not a regular file (setcap acts on the file itself, never through a symbolic link)")

// openRegular opens path for its attributes, not following a symbolic
// link at its end, and refuses anything but a regular file.
func openRegular(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return -1, errNotRegular
	}
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = errNotRegular
		}
		return -1, err
	}
	return fd, nil
}

// ErrNoFileCaps is returned by GetFile for a file without capabilities.
var ErrNoFileCaps = errors.New("no file capabilities")

// GetFile reads the security.capability attribute of path.
func GetFile(path string, ex *explain.Printer) (FileCaps, error) {
	ex.Argv("getcap", "-n", path)
	buf := make([]byte, sizeV3)
	n, err := unix.Getxattr(path, XattrName, buf)
	if errors.Is(err, unix.ENODATA) {
		return FileCaps{}, ErrNoFileCaps
	}
	if err != nil {
		return FileCaps{}, fmt.Errorf("get %s of %s: %w", XattrName, path, err)
	}
	return DecodeFileCaps(buf[:n])
}

// RemoveFile removes the capabilities of path (no error when it had none).
func RemoveFile(path string, ex *explain.Printer) error {
	ex.Argv("setcap", "-r", path)
	fd, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("remove %s of %s: %w", XattrName, path, err)
	}
	defer unix.Close(fd)
	err = unix.Fremovexattr(fd, XattrName)
	if err != nil && !errors.Is(err, unix.ENODATA) {
		return fmt.Errorf("remove %s of %s: %w", XattrName, path, err)
	}
	return nil
}
