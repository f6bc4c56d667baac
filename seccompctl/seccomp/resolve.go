package seccomp

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	capctl "mini-docker/capctl/caps"
)

// Options say for what process a profile is compiled: its architecture,
// the capabilities it will keep, and the kernel it runs on. Docker
// evaluates a profile's includes/excludes against exactly these.
type Options struct {
	Arch   *Arch           // nil: the running architecture
	Caps   map[string]bool // CAP_* names the process keeps; nil: Docker's default set
	Kernel string          // "6.18"; empty: the running kernel
}

// DockerDefaultCaps is the capability set Docker gives a container.
var DockerDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// normalizeCap accepts CAP_SYS_ADMIN, cap_sys_admin and SYS_ADMIN; the
// names are capctl's (capabilities(7)), so both tools know the same ones.
func normalizeCap(c string) (string, error) {
	if k, ok := capctl.Lookup(c); ok {
		return k.DockerName(), nil
	}
	return "", fmt.Errorf("unknown capability %q", c)
}

// ParseCaps reads a --caps list: names separated by commas, "ALL", or
// empty (no capability at all).
func ParseCaps(list string) (map[string]bool, error) {
	caps := map[string]bool{}
	for _, c := range strings.Split(list, ",") {
		if strings.TrimSpace(c) == "" {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(c), "ALL") {
			for _, k := range capctl.Known().DockerNames() {
				caps[k] = true
			}
			continue
		}
		n, err := normalizeCap(c)
		if err != nil {
			return nil, err
		}
		caps[n] = true
	}
	return caps, nil
}

func defaultCaps() map[string]bool {
	m := map[string]bool{}
	for _, c := range DockerDefaultCaps {
		m[c] = true
	}
	return m
}

// parseKernelVersion reads "4.8" or "6.18.0-1-amd64" as [major, minor].
func parseKernelVersion(s string) ([2]int, error) {
	var v [2]int
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return v, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	for i := 0; i < 2; i++ {
		digits := parts[i]
		if i == 1 {
			if j := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
				digits = digits[:j]
			}
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			return v, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
		}
		v[i] = n
	}
	return v, nil
}

func kernelAtLeast(have, want [2]int) bool {
	return have[0] > want[0] || have[0] == want[0] && have[1] >= want[1]
}

// runningKernel returns the release of the running kernel (uname -r).
func runningKernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "0.0"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Rule is one profile rule resolved for a process: a system call number,
// its argument conditions (all must hold) and what to return.
type Rule struct {
	Name   string
	Nr     uint32
	Args   []Arg
	Action Action
	Ret    uint32 // the SECCOMP_RET_* value, with its data (errno)
	Source int    // index of the profile rule it came from
}

// Resolved is a profile resolved for one process: the rules in profile
// order, the default action, and what was left out and why.
type Resolved struct {
	Arch          *Arch
	Kernel        string
	Caps          map[string]bool
	DefaultAction Action
	DefaultRet    uint32
	Rules         []Rule
	// NotOnArch lists names that are system calls, but not on this
	// architecture (chown32 on x86_64): skipped, as Docker does.
	NotOnArch []string
	// Unknown lists names that are no system call anywhere (typos):
	// skipped too, with a warning.
	Unknown []string
	// OtherArches lists the architectures the profile names besides the
	// one compiled for: calls from them are killed anyway (see Compile).
	OtherArches []string
}

// Resolve selects the rules of p that apply to the process opts
// describes, the way Docker does (includes: every listed capability is
// kept, the architecture is listed, the kernel is at least minKernel;
// excludes: the opposite), and numbers their system calls.
func Resolve(p *Profile, opts Options) (*Resolved, error) {
	arch := opts.Arch
	if arch == nil {
		var err error
		if arch, err = NativeArch(); err != nil {
			return nil, err
		}
	}
	caps := opts.Caps
	if caps == nil {
		caps = defaultCaps()
	}
	kernel := opts.Kernel
	if kernel == "" {
		kernel = runningKernel()
	}
	kv, err := parseKernelVersion(kernel)
	if err != nil {
		return nil, err
	}
	r := &Resolved{Arch: arch, Kernel: kernel, Caps: caps, DefaultAction: p.DefaultAction}
	r.DefaultRet = retValue(p.DefaultAction, p.DefaultErrnoRet)
	for _, a := range p.arches() {
		if a != arch.SCMP && !contains(r.OtherArches, a) {
			r.OtherArches = append(r.OtherArches, a)
		}
	}
	n := 0
	for i := range p.Syscalls {
		n += len(p.Syscalls[i].Names) + 1
	}
	r.Rules = make([]Rule, 0, n)
	seenSkip := map[string]bool{}
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		if !selected(s, arch, caps, kv) {
			continue
		}
		ret := retValue(s.Action, s.ErrnoRet)
		for _, name := range s.names() {
			nr, ok := arch.Number(name)
			if !ok {
				if !seenSkip[name] {
					seenSkip[name] = true
					if KnownName(name) {
						r.NotOnArch = append(r.NotOnArch, name)
					} else {
						r.Unknown = append(r.Unknown, name)
					}
				}
				continue
			}
			r.Rules = append(r.Rules, Rule{Name: name, Nr: nr, Args: s.Args, Action: s.Action, Ret: ret, Source: i})
		}
	}
	return r, nil
}

// selected applies a rule's includes and excludes (moby's profile rules).
func selected(s *Syscall, arch *Arch, caps map[string]bool, kv [2]int) bool {
	if f := s.Excludes; f != nil {
		if contains(f.Arches, arch.Name) {
			return false
		}
		for _, c := range f.Caps {
			if n, _ := normalizeCap(c); caps[n] {
				return false
			}
		}
		if f.MinKernel != "" {
			if mk, _ := parseKernelVersion(f.MinKernel); kernelAtLeast(kv, mk) {
				return false
			}
		}
	}
	if f := s.Includes; f != nil {
		if len(f.Arches) > 0 && !contains(f.Arches, arch.Name) {
			return false
		}
		for _, c := range f.Caps {
			if n, _ := normalizeCap(c); !caps[n] {
				return false
			}
		}
		if f.MinKernel != "" {
			if mk, _ := parseKernelVersion(f.MinKernel); !kernelAtLeast(kv, mk) {
				return false
			}
		}
	}
	return true
}

// retValue is the SECCOMP_RET_* value of an action. ERRNO carries its
// errno in the low 16 bits: EPERM when the rule gives none, as runc does
// (a rule's errno does not default to defaultErrnoRet). TRACE carries the
// errnoRet as the tracer's message.
func retValue(a Action, errnoRet *uint) uint32 {
	e := uint32(unix.EPERM)
	if errnoRet != nil {
		e = uint32(*errnoRet)
	}
	switch a {
	case ActAllow:
		return unix.SECCOMP_RET_ALLOW
	case ActErrno:
		return unix.SECCOMP_RET_ERRNO | e&unix.SECCOMP_RET_DATA
	case ActKill, ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD
	case ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS
	case ActTrap:
		return unix.SECCOMP_RET_TRAP
	case ActLog:
		return unix.SECCOMP_RET_LOG
	case ActTrace:
		return unix.SECCOMP_RET_TRACE | e&unix.SECCOMP_RET_DATA
	}
	return unix.SECCOMP_RET_KILL_PROCESS
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
