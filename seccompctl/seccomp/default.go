package seccomp

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
)

//go:generate go run ./internal/mkdefault

// DefaultProfile returns the built-in profile ("--profile default"):
// Docker's default policy for x86_64 and aarch64 (see profiles/README.md
// for where it comes from). It is profiles/default.json, decoded when the
// program is built (zdefault.go), so every container's start does not
// decode and check it again; the profile shares its lists with every
// other caller, who must not modify them.
func DefaultProfile() *Profile {
	p := defaultProfile
	return &p
}

// LoadProfile returns the profile a --profile value names: "default",
// "unconfined" (nil: no filter at all) or a JSON file.
func LoadProfile(name string) (*Profile, error) {
	switch name {
	case "default", "":
		return DefaultProfile(), nil
	case "unconfined":
		return nil, nil
	}
	data, err := readProfile(name)
	if err != nil {
		return nil, &ReadError{fmt.Errorf("read profile: %w", err)}
	}
	return ParseProfile(data, name)
}

// ReadError is a profile that could not be read (not one that did not
// parse).
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// maxProfile bounds a profile file: Docker's own is about 20 KiB.
const maxProfile = 4 << 20

// readProfile reads a regular file of at most maxProfile bytes (a fifo
// would block, /dev/zero never end).
func readProfile(name string) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProfile+1))
	if err == nil && len(data) > maxProfile {
		err = fmt.Errorf("%s: larger than %d bytes", name, maxProfile)
	}
	return data, err
}

// DenyProfile builds the profile of `seccompctl run --deny`: everything
// allowed but the named system calls, which get action (with errno for
// SCMP_ACT_ERRNO). Unlike names in a profile file, every name here must
// exist on the architecture: the user typed it and expects it denied.
func DenyProfile(names []string, action Action, errno uint, arch *Arch) (*Profile, error) {
	if arch == nil {
		var err error
		if arch, err = NativeArch(); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if _, ok := arch.Number(n); !ok {
			if KnownName(n) {
				return nil, fmt.Errorf("deny %s: no such system call on %s (only on other architectures)", n, arch.Name)
			}
			return nil, fmt.Errorf("deny %s: unknown system call", n)
		}
	}
	e := errno
	return &Profile{
		Source:        "--deny " + strings.Join(names, ","),
		DefaultAction: ActAllow,
		Syscalls:      []Syscall{{Names: names, Action: action, ErrnoRet: &e}},
	}, nil
}

// NativeArch returns the architecture this program runs on.
func NativeArch() (*Arch, error) { return LookupArch(runtime.GOARCH) }
