package seccomp

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

//go:generate go run ./internal/mksyscalls

// syscallEntry is one row of a generated system call table.
type syscallEntry struct {
	Name string
	Nr   uint32
}

// Arch is an architecture seccompctl compiles filters for: the value the
// kernel puts in seccomp_data.arch (AUDIT_ARCH_*) and its system call table.
type Arch struct {
	Name      string // GOARCH: amd64, arm64
	SCMP      string // the profile's name: SCMP_ARCH_X86_64
	Audit     uint32 // AUDIT_ARCH_X86_64
	AuditName string
	// X32 is set on x86_64, where the x32 ABI reuses AUDIT_ARCH_X86_64 and
	// marks its calls with bit 30 of the number instead.
	X32 bool

	table []syscallEntry // sorted by name
}

// The x32 ABI's system call numbers have this bit set (__X32_SYSCALL_BIT).
const x32SyscallBit = 0x40000000

var (
	archAMD64 = &Arch{Name: "amd64", SCMP: "SCMP_ARCH_X86_64", Audit: unix.AUDIT_ARCH_X86_64,
		AuditName: "AUDIT_ARCH_X86_64", X32: true, table: syscallsAMD64}
	archARM64 = &Arch{Name: "arm64", SCMP: "SCMP_ARCH_AARCH64", Audit: unix.AUDIT_ARCH_AARCH64,
		AuditName: "AUDIT_ARCH_AARCH64", table: syscallsARM64}
)

// LookupArch returns the architecture named by a GOARCH name (amd64,
// arm64) or the kernel's name (x86_64, aarch64).
func LookupArch(name string) (*Arch, error) {
	switch name {
	case "amd64", "x86_64":
		return archAMD64, nil
	case "arm64", "aarch64":
		return archARM64, nil
	}
	return nil, fmt.Errorf("unknown architecture %q (seccompctl knows amd64 and arm64)", name)
}

// Number returns the number of system call name on a.
func (a *Arch) Number(name string) (uint32, bool) {
	i, ok := slices.BinarySearchFunc(a.table, name, func(e syscallEntry, name string) int { return strings.Compare(e.Name, name) })
	if !ok {
		return 0, false
	}
	return a.table[i].Nr, true
}

// SyscallName returns the name of system call number nr on a.
func (a *Arch) SyscallName(nr uint32) (string, bool) {
	for _, e := range a.table {
		if e.Nr == nr {
			return e.Name, true
		}
	}
	return "", false
}

// KnownName reports whether name is a system call on some Linux
// architecture (so a profile naming it is not a typo).
func KnownName(name string) bool {
	_, ok := slices.BinarySearch(knownNames, name)
	return ok || armPrivate[name]
}

// armPrivate are the 32-bit ARM "private" system calls (__ARM_NR_*,
// numbered apart from asm/unistd.h's table, so x/sys/unix has no
// constants for them) that Docker's profile names.
var armPrivate = map[string]bool{"breakpoint": true, "cacheflush": true, "set_tls": true, "usr26": true, "usr32": true}
