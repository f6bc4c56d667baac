// Package caps splits root into pieces: it reads, computes and sets the
// Linux capability sets of a process, and the capabilities of files.
//
// The model (capabilities(7)). Since Linux 2.2, what root may do is 41
// separate privileges (CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN,
// ...; /proc/sys/kernel/cap_last_cap is the last one). Each thread holds
// five sets of them, each a 64-bit mask (type Set):
//
//	effective    what the kernel checks right now
//	permitted    what the thread may make effective
//	inheritable  what may pass through execve, if the file allows it
//	bounding     the ceiling: what any later execve can ever give, even to root
//	ambient      what passes through execve of a plain file (Linux 4.3)
//
// At execve the kernel computes the new sets:
//
//	P'(ambient)   = file has capabilities or is setuid ? 0 : P(ambient)
//	P'(permitted) = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
//	P'(effective) = F(effective) ? P'(permitted) : P'(ambient)
//	P'(inheritable) = P(inheritable);  P'(bounding) = P(bounding)
//
// where root (uid 0) counts as running a file whose F(permitted) and
// F(inheritable) are all ones. So a root process keeps exactly its
// bounding and inheritable sets across execve: to take a capability away
// from root for good, it must leave the bounding set (and the inheritable
// and ambient sets). Apply does that, in the order runc does.
//
// This file is the lesson (lessons/06-capabilities.md), top to bottom.
package caps

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// Spec is what the thread should hold when it calls execve.
type Spec struct {
	Bounding    Set
	Permitted   Set
	Effective   Set
	Inheritable Set
	Ambient     Set
	User        *User // nil: keep the current uid, gid and groups
	NoNewPrivs  bool
}

// ForContainer returns the Spec a container runtime gives its process:
// caps in the bounding, permitted and effective sets, and nothing in the
// inheritable and ambient sets. Docker gave the inheritable set the same
// caps until CVE-2022-24769: a non-root user in the container then got
// them back by running a file with inheritable file capabilities. keep
// names capabilities to carry across a change to a non-root user: those
// go in the inheritable and ambient sets too (an ambient capability must
// be permitted and inheritable), as setpriv --ambient-caps does.
func ForContainer(caps, keep Set) Spec {
	all := caps | keep
	return Spec{Bounding: all, Permitted: all, Effective: all, Inheritable: keep, Ambient: keep}
}

// Within returns s limited to what a thread holding the permitted set
// perm and the bounding set bnd can give: a thread can only shrink its
// permitted and bounding sets. It makes ALL and --privileged mean "every
// capability we have", so they work where the runtime itself runs with
// fewer than the kernel knows (in a container, or a host with a reduced
// bounding set).
func (s Spec) Within(perm, bnd Set) Spec {
	s.Bounding &= bnd
	s.Permitted &= perm
	s.Effective &= perm
	s.Inheritable &= perm
	s.Ambient &= perm
	return s
}

// Apply gives the calling thread the sets and identity of s, in this
// order: bounding set, user (keeping permitted capabilities across
// setuid), capset, ambient set, no_new_privs.
//
// Capabilities and credentials belong to a thread, not to a process: the
// capset, prctl and setresuid system calls change only the thread that
// makes them, and execve keeps only the thread that calls it. A Go
// program has several threads and the scheduler moves goroutines between
// them, so Apply locks the calling goroutine to its thread and never
// unlocks it: the caller must exec from the same goroutine right after
// (cli.Exec), and the sets set here are the ones execve sees.
func Apply(s Spec, ex *explain.Printer) error {
	runtime.LockOSThread()
	if err := s.check(); err != nil {
		return err
	}
	if err := dropBounding(s.Bounding, ex); err != nil {
		return err
	}
	if s.User != nil {
		if err := changeUser(*s.User, ex); err != nil {
			return err
		}
	}
	if err := setCaps(s.Permitted, s.Effective, s.Inheritable, ex); err != nil {
		return err
	}
	if err := setAmbient(s.Ambient, ex); err != nil {
		return err
	}
	if s.NoNewPrivs {
		if err := setNoNewPrivs(ex); err != nil {
			return err
		}
	}
	return nil
}

// check refuses specs the kernel would refuse half-way through.
func (s Spec) check() error {
	if extra := s.Effective &^ s.Permitted; extra != 0 {
		return fmt.Errorf("effective capabilities must be permitted: %s is not", extra)
	}
	if extra := s.Ambient &^ (s.Permitted & s.Inheritable); extra != 0 {
		return fmt.Errorf("ambient capabilities must be permitted and inheritable: %s is not", extra)
	}
	return nil
}

// dropBounding removes from the bounding set every capability not in
// keep: prctl(PR_CAPBSET_DROP) once per capability. A capability out of
// the bounding set can never come back to this process or its children,
// not through setuid-root files, not through file capabilities, not for
// uid 0. Dropping needs CAP_SETPCAP, so it comes first, while we still
// have it.
func dropBounding(keep Set, ex *explain.Printer) error {
	have, err := ReadBounding()
	if err != nil {
		return err
	}
	drop := have &^ keep
	if drop == 0 {
		return nil
	}
	explainBounding(keep, drop, ex)
	for _, c := range drop.Caps() {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop %s from the bounding set (prctl PR_CAPBSET_DROP): %w", c, err)
		}
	}
	return nil
}

// changeUser sets the supplementary groups, the gid and the uid. When the
// uid goes from 0 to another, the kernel empties the permitted, effective
// and ambient sets, unless PR_SET_KEEPCAPS is set, which keeps the
// permitted set (only: effective and ambient are set again below).
//
// The raw system calls change this thread only. glibc's setuid(3) and Go's
// syscall.Setuid signal every thread to do the same (POSIX wants the whole
// process to change); here the other threads do not matter, because
// execve is about to end them.
//
// A change of uid or gid also clears the parent-death signal
// (PR_SET_PDEATHSIG, prctl(2)), which a runtime sets so that a container
// dies with the process watching it; it is set again afterwards.
func changeUser(u User, ex *explain.Printer) error {
	var deathSig int
	if err := unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&deathSig)), 0, 0, 0); err != nil {
		deathSig = 0
	}
	ppid := unix.Getppid()
	ex.Cmd("capsh --keep=1")
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	if err := setGroups(u.Groups, ex); err != nil {
		// A user namespace that denies setgroups(2) (unshare
		// --map-root-user, run --userns) keeps the groups it has, as
		// runc does there, when the user asks for no other group than
		// its own. Read only on failure: not on every start.
		ownGroupOnly := !slices.ContainsFunc(u.Groups, func(g int) bool { return g != u.GID })
		if !errors.Is(err, unix.EPERM) || !ownGroupOnly || SetgroupsAllowed() {
			return withUnmapped(u, err)
		}
		ex.Note("setgroups is denied in this user namespace (/proc/self/setgroups): the groups stay")
	}
	// The gid before the uid: once the uid is not 0, changing the gid
	// needs CAP_SETGID in the effective set, which setuid has just cleared.
	ex.Cmd("setpriv --regid=%d", u.GID)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return withUnmapped(u, fmt.Errorf("setresgid %d: %w", u.GID, e))
	}
	ex.Cmd("setpriv --reuid=%d", u.UID)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return withUnmapped(u, fmt.Errorf("setresuid %d: %w", u.UID, e))
	}
	ex.Cmd("capsh --keep=0")
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS 0: %w", err)
	}
	if deathSig != 0 {
		ex.Note("prctl(PR_SET_PDEATHSIG, %d) again: the uid change cleared it", deathSig)
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(deathSig), 0, 0, 0); err != nil {
			return fmt.Errorf("prctl PR_SET_PDEATHSIG %d: %w", deathSig, err)
		}
		if unix.Getppid() != ppid {
			// The parent died while the signal was off: take it now.
			unix.Kill(unix.Getpid(), unix.Signal(deathSig))
		}
	}
	return nil
}

// withUnmapped puts before err, in runc's words, which of u's IDs this
// process's user namespace does not map (setresuid(2) and setresgid(2)
// refuse those with EINVAL), when one is not: the cause a bare EINVAL or
// EPERM does not name.
func withUnmapped(u User, err error) error {
	if m := unmapped(u); m != "" {
		return fmt.Errorf("%s: %w", m, err)
	}
	return err
}

// unmapped names the first of u's IDs that this process's user namespace
// does not map, or is "".
func unmapped(u User) string {
	for _, id := range []struct {
		kind string
		id   int
	}{{"uid", u.UID}, {"gid", u.GID}} {
		path := "/proc/self/" + id.kind + "_map"
		b, err := os.ReadFile(path)
		if err != nil || mapsID(string(b), id.id) {
			continue
		}
		return fmt.Sprintf("cannot set %s to unmapped user in user namespace: %s %d is not in %s (%s)",
			id.kind, id.kind, id.id, path, strings.Join(strings.Fields(string(b)), " "))
	}
	return ""
}

// mapsID reports whether an ID map (uid_map, gid_map: "INSIDE OUTSIDE
// COUNT" lines, user_namespaces(7)) maps id inside.
func mapsID(idMap string, id int) bool {
	for _, line := range strings.Split(idMap, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(f[0], 10, 32)
		n, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && uint64(id) >= in && uint64(id) < in+n {
			return true
		}
	}
	return false
}

// setGroups replaces the supplementary groups; an empty list clears them,
// so the command does not keep the groups of whoever started us.
func setGroups(groups []int, ex *explain.Printer) error {
	if len(groups) == 0 {
		ex.Cmd("setpriv --clear-groups")
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			return fmt.Errorf("setgroups (clear): %w", e)
		}
		return nil
	}
	gids := make([]uint32, len(groups)) // gid_t
	strs := make([]string, len(groups))
	for i, g := range groups {
		gids[i] = uint32(g)
		strs[i] = strconv.Itoa(g)
	}
	ex.Cmd("setpriv --groups=%s", strings.Join(strs, ","))
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(unsafe.Pointer(&gids[0])), 0); e != 0 {
		return fmt.Errorf("setgroups %s: %w", strings.Join(strs, ","), e)
	}
	return nil
}

// setCaps sets the permitted, effective and inheritable sets with one
// capset(2) on this thread (header pid 0). The kernel lets a thread only
// shrink its permitted set, and keeps inheritable within bounding.
func setCaps(perm, eff, inh Set, ex *explain.Printer) error {
	ex.Cmd("capsh --caps=%s", explain.Quote(Text(perm, inh, eff)))
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: two 32-bit halves
	for i := range data {
		shift := 32 * uint(i)
		data[i].Permitted = uint32(perm >> shift)
		data[i].Effective = uint32(eff >> shift)
		data[i].Inheritable = uint32(inh >> shift)
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset (permitted %s, effective %s, inheritable %s): %w", perm.Hex(), eff.Hex(), inh.Hex(), err)
	}
	return nil
}

// setAmbient empties the ambient set and raises the capabilities of amb
// in it. Ambient capabilities are the only ones a non-root user keeps
// across execve of an ordinary program (Linux 4.3).
func setAmbient(amb Set, ex *explain.Printer) error {
	ex.Cmd("capsh --noamb")
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear the ambient set (prctl PR_CAP_AMBIENT_CLEAR_ALL): %w", err)
	}
	if amb == 0 {
		return nil
	}
	ex.Cmd("setpriv --ambient-caps=%s", setprivList(amb, '+'))
	for _, c := range amb.Caps() {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fmt.Errorf("raise %s in the ambient set (prctl PR_CAP_AMBIENT_RAISE): %w", c, err)
		}
	}
	return nil
}

// setNoNewPrivs sets no_new_privs: from now on execve never grants
// anything, neither setuid bits nor file capabilities. It is inherited by
// children and cannot be unset.
func setNoNewPrivs(ex *explain.Printer) error {
	ex.Cmd("setpriv --no-new-privs")
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_NO_NEW_PRIVS: %w", err)
	}
	return nil
}

// ReadThread returns the permitted, effective and inheritable sets of the
// calling thread (capget(2)).
func ReadThread() (perm, eff, inh Set, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, 0, fmt.Errorf("capget: %w", err)
	}
	for i := range data {
		shift := 32 * uint(i)
		perm |= Set(data[i].Permitted) << shift
		eff |= Set(data[i].Effective) << shift
		inh |= Set(data[i].Inheritable) << shift
	}
	return perm, eff, inh, nil
}

// ReadBounding returns the bounding set of the calling thread
// (prctl PR_CAPBSET_READ for each capability the kernel knows).
func ReadBounding() (Set, error) {
	var s Set
	for c := Cap(0); c <= Last(); c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			return 0, fmt.Errorf("read bounding set (prctl PR_CAPBSET_READ %s): %w", c, err)
		}
		if in == 1 {
			s |= SetOf(c)
		}
	}
	return s, nil
}

// explainBounding prints the drop as setpriv --bounding-set, in whichever
// form is shorter: the capabilities dropped, or all but those kept.
func explainBounding(keep, drop Set, ex *explain.Printer) {
	if !ex.Enabled() {
		return
	}
	arg := setprivList(drop, '-')
	if keep = keep & All(); keep.Len() < drop.Len() {
		arg = "-all"
		if keep != 0 {
			arg += "," + setprivList(keep, '+')
		}
	}
	ex.Cmd("setpriv --bounding-set=%s", arg)
}

// setprivList writes s as setpriv does: "+chown,+net_raw".
func setprivList(s Set, sign byte) string {
	var out []string
	for _, c := range s.Caps() {
		out = append(out, string(sign)+strings.TrimPrefix(c.String(), "cap_"))
	}
	return strings.Join(out, ",")
}

// Text writes three sets in the text form of cap_to_text(3), which capsh
// --caps and setcap read: "cap_chown,cap_kill=ep cap_net_raw=eip", "=ep"
// for every capability, "=ep cap_chown-ep" for all but one, "=" for none.
func Text(perm, inh, eff Set) string {
	groups := map[string]Set{}
	for _, c := range (perm | inh | eff).Caps() {
		flags := ""
		if eff.Has(c) {
			flags += "e"
		}
		if inh.Has(c) {
			flags += "i"
		}
		if perm.Has(c) {
			flags += "p"
		}
		groups[flags] |= SetOf(c)
	}
	if len(groups) == 1 {
		// One kind of flags for most capabilities: write it as "all but",
		// as libcap does: "=ep cap_sys_admin-ep".
		for flags, s := range groups {
			if s&^All() == 0 && s != All() && s.Len() > All().Len()/2 {
				return "=" + flags + " " + (All() &^ s).String() + "-" + flags
			}
		}
	}
	var out []string
	for _, flags := range []string{"eip", "ep", "ip", "p", "ei", "e", "i"} {
		s, ok := groups[flags]
		if !ok {
			continue
		}
		if s == All() {
			out = append(out, "="+flags)
		} else {
			out = append(out, s.String()+"="+flags)
		}
	}
	if len(out) == 0 {
		return "="
	}
	return strings.Join(out, " ")
}

// AsAfterExec gives the calling thread, when it is not root, the
// effective set that execve(2) of an ordinary program (no file
// capabilities, not set-user-ID) will leave it: its ambient set. The
// capabilities Apply set stay in the permitted set. A runtime that
// still changes directory for the command after Apply then does it with
// the command's own rights, as a program exec'd in between would (capctl
// run's next hop).
func AsAfterExec() error {
	if unix.Geteuid() == 0 {
		return nil // root keeps its permitted set as effective across execve
	}
	perm, _, inh, err := ReadThread()
	if err != nil {
		return err
	}
	var amb Set
	for _, c := range perm.Caps() {
		if on, _ := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0); on == 1 {
			amb |= SetOf(c)
		}
	}
	return setCaps(perm, amb, inh, nil)
}
