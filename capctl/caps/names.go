package caps

import (
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Cap is one capability: a bit number, as in <linux/capability.h>.
type Cap int

// names are the capabilities' names in the kernel's order
// (include/uapi/linux/capability.h): CAP_CHOWN is bit 0,
// CAP_CHECKPOINT_RESTORE (Linux 5.9) bit 40.
var names = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// Capabilities Docker grants by default, and a few the lessons name.
const (
	CHOWN            Cap = 0
	DAC_OVERRIDE     Cap = 1
	FOWNER           Cap = 3
	FSETID           Cap = 4
	KILL             Cap = 5
	SETGID           Cap = 6
	SETUID           Cap = 7
	SETPCAP          Cap = 8
	NET_BIND_SERVICE Cap = 10
	NET_ADMIN        Cap = 12
	NET_RAW          Cap = 13
	SYS_CHROOT       Cap = 18
	SYS_ADMIN        Cap = 21
	MKNOD            Cap = 27
	AUDIT_WRITE      Cap = 29
	SETFCAP          Cap = 31
)

// String returns the name libcap and getcap use: "cap_net_admin", or
// the bare number ("41") for a bit newer than this program, as libcap's
// cap_to_name(3) does.
func (c Cap) String() string {
	if c >= 0 && int(c) < len(names) {
		return "cap_" + names[c]
	}
	return strconv.Itoa(int(c))
}

// DockerName returns the name Docker and the OCI spec use: "CAP_NET_ADMIN".
func (c Cap) DockerName() string {
	if c >= 0 && int(c) < len(names) {
		return "CAP_" + strings.ToUpper(names[c])
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// Set is a capability set as the kernel stores it: bit N is capability N.
// It is what /proc/PID/status prints in hex (CapEff: 00000000a80425fb).
type Set uint64

// SetOf returns the set holding caps.
func SetOf(caps ...Cap) Set {
	var s Set
	for _, c := range caps {
		s |= 1 << uint(c)
	}
	return s
}

// Has reports whether c is in s.
func (s Set) Has(c Cap) bool { return c >= 0 && c < 64 && s&(1<<uint(c)) != 0 }

// Len returns how many capabilities s holds.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// Caps returns the capabilities of s in bit order.
func (s Set) Caps() []Cap {
	var out []Cap
	for c := Cap(0); c < 64; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Names returns the libcap names of s ("cap_chown", ...) in bit order.
func (s Set) Names() []string {
	var out []string
	for _, c := range s.Caps() {
		out = append(out, c.String())
	}
	return out
}

// DockerNames returns the Docker names of s ("CAP_CHOWN", ...) in bit order.
func (s Set) DockerNames() []string {
	var out []string
	for _, c := range s.Caps() {
		out = append(out, c.DockerName())
	}
	return out
}

// String returns the names joined with commas, as capsh --decode prints
// them, or "" for the empty set.
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// Hex returns s as /proc/PID/status prints it: 16 hex digits.
func (s Set) Hex() string { return fmt.Sprintf("%016x", uint64(s)) }

var (
	lastOnce sync.Once
	lastCap  Cap
)

// Last returns the highest capability the running kernel knows, read from
// /proc/sys/kernel/cap_last_cap (40 since Linux 5.9). When the file cannot
// be read it falls back to the last name this program knows.
func Last() Cap {
	lastOnce.Do(func() {
		lastCap = Cap(len(names) - 1)
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			lastCap = Cap(n)
		}
	})
	return lastCap
}

// All returns every capability the running kernel knows.
func All() Set { return Set(1<<(uint(Last())+1) - 1) }

// UnknownError is returned for a capability name nobody knows.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string { return fmt.Sprintf("unknown capability %q", e.Name) }

// Lookup returns the capability named name, by name only: "CAP_NET_ADMIN",
// "cap_net_admin", "NET_ADMIN" or "net_admin" (any case), whether or not
// the running kernel knows it. Bit numbers are not names.
func Lookup(name string) (Cap, bool) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "cap_")
	for i, known := range names {
		if n == known {
			return Cap(i), true
		}
	}
	return 0, false
}

// Known returns every capability this program has a name for (CAP_CHOWN
// to CAP_CHECKPOINT_RESTORE), whatever the running kernel knows.
func Known() Set { return Set(1<<uint(len(names)) - 1) }

// Parse returns the capability named name. It accepts the spellings of
// every tool: "CAP_NET_ADMIN" (Docker, OCI), "cap_net_admin" (libcap,
// getcap), "NET_ADMIN" and "net_admin" (docker --cap-add), and a bit
// number ("12", "cap_12"). The capability must exist in the running
// kernel (see Last).
func Parse(name string) (Cap, error) {
	c, ok := Lookup(name)
	if !ok {
		n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "cap_")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 64 {
			c, ok = Cap(i), true
		}
	}
	if !ok {
		return 0, &UnknownError{Name: name}
	}
	if c > Last() {
		return 0, fmt.Errorf("capability %s (bit %d) is not known to this kernel (its last is %d, see /proc/sys/kernel/cap_last_cap)", c, int(c), int(Last()))
	}
	return c, nil
}

// ParseList parses a comma-separated list of capability names into a set.
// "ALL" (any case, with or without CAP_) stands for every capability of the
// running kernel. A leading "+" on a name is accepted, as setpriv writes
// them; blanks between names are ignored.
func ParseList(list string) (Set, error) {
	var items []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			items = append(items, f)
		}
	}
	return ParseNames(items)
}

// ParseNames is ParseList for names given one by one (Docker's
// []string CapAdd / CapDrop).
func ParseNames(items []string) (Set, error) {
	var s Set
	for _, item := range items {
		item = strings.TrimPrefix(strings.TrimSpace(item), "+")
		if isAll(item) {
			s |= All()
			continue
		}
		c, err := Parse(item)
		if err != nil {
			return 0, err
		}
		s |= SetOf(c)
	}
	return s, nil
}

func isAll(name string) bool {
	return strings.EqualFold(name, "ALL") || strings.EqualFold(name, "CAP_ALL")
}

// ParseHex parses a set written in hex, as /proc/PID/status prints it
// ("00000000a80425fb") or capsh takes it ("0xa80425fb").
func ParseHex(s string) (Set, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil || h == "" {
		return 0, fmt.Errorf("%q is not a capability set in hex (like 00000000a80425fb)", s)
	}
	return Set(v), nil
}
