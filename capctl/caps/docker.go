package caps

import (
	"os"
	"strings"
)

// DockerDefault is the set Docker gives every container that is not
// --privileged (moby's oci/caps/defaults.go): 14 of root's 41
// capabilities. In hex, as CapEff shows it: 00000000a80425fb.
var DockerDefault = SetOf(
	CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
	SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE,
)

// Compute returns the capabilities a container gets from a base set
// (normally DockerDefault) and docker run's --cap-add, --cap-drop and
// --privileged, with Docker's rules (moby's TweakCapabilities):
//
//   - --privileged gives every capability of the running kernel; adds and
//     drops are ignored.
//   - ALL in --cap-add gives every capability except those in --cap-drop.
//   - otherwise ALL in --cap-drop starts from nothing and gives exactly
//     --cap-add.
//   - otherwise the base minus --cap-drop, plus --cap-add: a capability
//     both added and dropped is kept, whatever the order of the flags.
//
// Unknown names are an error (Docker: "unknown capability").
func Compute(base Set, add, drop []string, privileged bool) (Set, error) {
	if privileged {
		return All(), nil
	}
	addSet, err := ParseNames(add)
	if err != nil {
		return 0, err
	}
	dropSet, err := ParseNames(drop)
	if err != nil {
		return 0, err
	}
	switch {
	case hasAll(add):
		return All() &^ namedOnly(drop), nil
	case hasAll(drop):
		return addSet, nil
	}
	return base&^dropSet | addSet, nil
}

func hasAll(list []string) bool {
	for _, n := range list {
		if isAll(trimPlus(n)) {
			return true
		}
	}
	return false
}

// namedOnly is the set of the names in list other than ALL: with
// --cap-add ALL --cap-drop ALL, Docker compares each capability with the
// literal drop names, and none of them is called ALL.
func namedOnly(list []string) Set {
	var s Set
	for _, n := range list {
		if isAll(trimPlus(n)) {
			continue
		}
		if c, err := Parse(trimPlus(n)); err == nil {
			s |= SetOf(c)
		}
	}
	return s
}

func trimPlus(s string) string {
	for len(s) > 0 && (s[0] == '+' || s[0] == ' ') {
		s = s[1:]
	}
	return s
}

// SetgroupsAllowed reports whether setgroups(2) may work here: in a user
// namespace whose setgroups file says "deny" it cannot, and runc then
// leaves the groups alone unless groups were asked for explicitly.
func SetgroupsAllowed() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err != nil || strings.TrimSpace(string(b)) != "deny"
}

// WithoutAll returns the names of list other than ALL.
func WithoutAll(list []string) []string {
	var out []string
	for _, n := range list {
		for _, item := range strings.Split(n, ",") {
			if t := strings.TrimPrefix(strings.TrimSpace(item), "+"); t != "" && !strings.EqualFold(t, "all") && !strings.EqualFold(t, "cap_all") {
				out = append(out, t)
			}
		}
	}
	return out
}
