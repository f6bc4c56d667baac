// Package devicefilter decides which device nodes a control group may
// open or make: lesson 03's device rules, on both cgroup versions.
//
// A rule is a line of the v1 devices controller: TYPE MAJOR:MINOR ACCESS,
// like "c 1:3 rwm" (the character device 1:3, /dev/null: read, write,
// mknod), written to devices.allow or devices.deny; "a" alone means every
// device. On cgroup v1 the kernel keeps, per group, a default (allow or
// deny every device) and a list of exceptions to it; each write changes
// them (Emulate does what the kernel does). On cgroup v2 there is no
// devices controller and no such file: the kernel asks a BPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE, attached to the group, about every
// open(2) and mknod(2) of a device node, and the program answers 1
// (allowed) or 0 (EPERM). runc and crun compile the v1 rules into such a
// program; so does Compile, instruction by instruction (program.go), and
// Apply loads and attaches it with the bpf(2) system call (kernel.go).
//
// The model, in order:
//
//	rules ("a" to devices.deny, "c 1:3 rwm" to devices.allow, ...)
//	  → Filter (Emulate: the v1 default and exceptions after those writes)
//	  → []Insn (Compile: one block of tests per exception, then the default)
//	  → a program fd (BPF_PROG_LOAD) → attached to the v2 group (BPF_PROG_ATTACH)
package devicefilter

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rule is one write to the v1 devices controller: Rule (TYPE MAJOR:MINOR
// ACCESS, or "a" for every device) to devices.allow (Allow) or to
// devices.deny. An OCI runtime spec's linux.resources.devices lists them.
type Rule struct {
	Allow bool
	Rule  string
}

// DockerRules is the device access every Docker container gets (runc's
// and moby's defaults, as /sys/fs/cgroup/devices/devices.list shows it
// inside `docker run`): first everything is denied ("a" to
// devices.deny), then these are allowed. "m" alone lets mknod make any
// node (it still cannot be opened); the rest are the devices of Docker's
// /dev: null, zero, full, random, urandom, tty, console, ptmx, tun, and
// every pseudo-terminal (136:*). /dev/fuse (10:229) stays denied.
var DockerRules = []string{
	"c *:* m", "b *:* m",
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm",
}

// RulesOf are the writes cgroupctl's --devices MODE and
// --device-cgroup-rule RULES (comma-separated) stand for: "docker"
// denies every device, then allows DockerRules; "all" allows every
// device (--privileged); "" keeps what the group started with. RULES
// are allowed after them.
func RulesOf(mode, rules string) []Rule {
	var out []Rule
	switch mode {
	case "all":
		out = append(out, Rule{Allow: true, Rule: "a"})
	case "docker":
		out = append(out, Rule{Allow: false, Rule: "a"})
		for _, r := range DockerRules {
			out = append(out, Rule{Allow: true, Rule: r})
		}
	}
	if rules != "" {
		for _, r := range strings.Split(rules, ",") {
			out = append(out, Rule{Allow: true, Rule: r})
		}
	}
	return out
}

// OCIRule writes a rule of an OCI spec's linux.resources.devices as
// devices.allow reads it ("a" for every device).
func OCIRule(d specs.LinuxDeviceCgroup) string {
	typ := d.Type
	if typ == "" || typ == "a" {
		return "a"
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return strconv.FormatInt(*p, 10)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	return fmt.Sprintf("%s %s:%s %s", typ, num(d.Major), num(d.Minor), access)
}

// Access is a set of the kernel's device access bits: the same values in
// the v1 controller (DEVCG_ACC_*) and in a v2 program's context
// (BPF_DEVCG_ACC_*, the upper half of access_type).
type Access uint32

// The access bits: mknod(2) of a node, open(2) for reading, for writing.
const (
	Mknod Access = 1 << iota
	Read
	Write
)

// The device types as a v2 program's context has them (BPF_DEVCG_DEV_*,
// the lower half of access_type).
const (
	Block = 1
	Char  = 2
)

// Any is a MAJOR or MINOR of "*": every number.
const Any = -1

// Exception is one entry of the v1 exception list: a device type ('b'
// or 'c'), numbers (Any for "*") and the access it grants (default deny)
// or takes away (default allow).
type Exception struct {
	Type         byte
	Major, Minor int64
	Access       Access
}

// Parse reads one rule as devices.allow does, with one space between
// the fields: "a" (every device), or TYPE MAJOR:MINOR ACCESS with TYPE
// b or c (or a: every device again, the kernel reads only the "a"),
// numbers of 32 bits or "*", ACCESS one to three of r, w, m. all reports
// an "a" rule.
func Parse(rule string) (ex Exception, all bool, err error) {
	bad := fmt.Errorf("device rule %q: want TYPE MAJOR:MINOR ACCESS, like 'c 10:229 rwm', or a", rule)
	if rule == "a" {
		return ex, true, nil
	}
	f := strings.Split(rule, " ")
	if len(f) != 3 || (f[0] != "a" && f[0] != "b" && f[0] != "c") || len(f[2]) == 0 || len(f[2]) > 3 {
		return ex, false, bad
	}
	maj, min, ok := strings.Cut(f[1], ":")
	ex.Type = f[0][0]
	if ex.Major, err = number(maj); ok && err == nil {
		ex.Minor, err = number(min)
	}
	if !ok || err != nil {
		return ex, false, bad
	}
	for _, c := range f[2] {
		switch c {
		case 'm':
			ex.Access |= Mknod
		case 'r':
			ex.Access |= Read
		case 'w':
			ex.Access |= Write
		default:
			return ex, false, bad
		}
	}
	return ex, ex.Type == 'a', nil
}

// number reads MAJOR or MINOR: "*" (Any) or a 32-bit number.
func number(s string) (int64, error) {
	if s == "*" {
		return Any, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return int64(n), err
}

// Filter is a v1 group's device state: the default for a device no
// exception names, and the exceptions.
type Filter struct {
	DefaultAllow bool
	Exceptions   []Exception
}

// Emulate applies rules in order, as the v1 kernel does on each write
// (security/device_cgroup.c, devcgroup_update_access), to a group that
// starts as the root does: every device allowed, no exception. "a"
// sets the default and empties the list. A rule against the default
// (deny while allowing, allow while denying) adds an exception, merged
// into one for the same type and numbers; a rule along the default
// takes its access away from the exception with the same type and
// numbers. runc's v2 filter starts from the same emulation, so that a
// container's devices are the same on v1 and v2.
func Emulate(rules []Rule) (Filter, error) {
	f := Filter{DefaultAllow: true}
	for _, r := range rules {
		ex, all, err := Parse(r.Rule)
		if err != nil {
			return Filter{}, err
		}
		switch {
		case all:
			f = Filter{DefaultAllow: r.Allow}
		case r.Allow != f.DefaultAllow:
			f.add(ex)
		default:
			f.remove(ex)
		}
	}
	return f, nil
}

// add is the kernel's dev_exception_add.
func (f *Filter) add(ex Exception) {
	for i, e := range f.Exceptions {
		if e.Type == ex.Type && e.Major == ex.Major && e.Minor == ex.Minor {
			f.Exceptions[i].Access |= ex.Access
			return
		}
	}
	f.Exceptions = append(f.Exceptions, ex)
}

// remove is the kernel's dev_exception_rm.
func (f *Filter) remove(ex Exception) {
	for i, e := range f.Exceptions {
		if e.Type == ex.Type && e.Major == ex.Major && e.Minor == ex.Minor {
			f.Exceptions[i].Access &^= ex.Access
			if f.Exceptions[i].Access == 0 {
				f.Exceptions = append(f.Exceptions[:i], f.Exceptions[i+1:]...)
			}
			return
		}
	}
}

// matches reports whether e names the device typ (Block or Char)
// major:minor.
func (e Exception) matches(typ uint32, major, minor uint32) bool {
	t := map[byte]uint32{'b': Block, 'c': Char}[e.Type]
	return t == typ && (e.Major == Any || uint32(e.Major) == major) && (e.Minor == Any || uint32(e.Minor) == minor)
}

// Allows reports whether the group lets a process have access to the
// device typ major:minor, as the v1 kernel decides
// (__devcgroup_check_permission): when the default denies, one
// exception must grant all of access; when it allows, no exception may
// take away any part of it.
func (f Filter) Allows(typ, major, minor uint32, access Access) bool {
	for _, e := range f.Exceptions {
		if !e.matches(typ, major, minor) {
			continue
		}
		if !f.DefaultAllow && access&^e.Access == 0 {
			return true
		}
		if f.DefaultAllow && access&e.Access != 0 {
			return false
		}
	}
	return f.DefaultAllow
}
