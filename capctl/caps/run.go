package caps

import (
	"fmt"
	"os"
	"slices"
)

// Run is what `capctl run` is asked for a process, in docker run's
// terms (--cap-add, --cap-drop, --privileged, --user, --group-add,
// --security-opt no-new-privileges); mini-docker's inside program asks
// the same of its container's process.
type Run struct {
	Root          string   // whose /etc/passwd and /etc/group name users and groups
	Add, Drop     []string // capability names, comma-separated or not; ALL allowed
	Keep          []string // also kept across exec by a non-root user (inheritable and ambient)
	DockerDefault bool     // start from Docker's 14, not from the caller's permitted set
	Privileged    bool     // every capability; Add and Drop are ignored
	User          string   // USER[:GROUP], names or numbers
	Groups        []string // extra supplementary groups for User
	NoNewPrivs    bool
}

// NotHeldError says a capability named in Add or Keep is one the calling
// thread does not hold: a thread can only shrink its sets.
type NotHeldError struct {
	Missing, Permitted, Bounding Set
}

func (e *NotHeldError) Error() string {
	return fmt.Sprintf("cannot give %s: not held (permitted %s, bounding %s)", e.Missing, e.Permitted.Hex(), e.Bounding.Hex())
}

// Spec returns the capability sets, user and no_new_privs that r gives
// a process started from the calling thread, which Apply then sets, and
// the user's home directory for HOME ("" when r names no user).
//
// Docker's set comes from Compute, limited to what this thread may give
// (Within). Without DockerDefault the starting sets are the thread's own
// permitted set, with its bounding set as the ceiling (the same for
// root; for anyone else, what they may keep without CAP_SETPCAP). With
// DockerDefault or Privileged and no User, root runs as Docker's default
// user (uid 0 of Root's /etc/passwd, groups its GID and memberships)
// unless setgroups(2) is denied here (a user namespace), as runc does.
func (r Run) Spec() (s Spec, home string, err error) {
	keep, err := ParseNames(r.Keep)
	if err != nil {
		return s, "", err
	}
	final, err := Compute(DockerDefault, r.Add, r.Drop, r.Privileged)
	if err != nil {
		return s, "", err
	}
	perm, _, _, err := ReadThread()
	if err != nil {
		return s, "", err
	}
	bnd, err := ReadBounding()
	if err != nil {
		return s, "", err
	}
	s = ForContainer(final, keep)
	if !r.DockerDefault {
		final, _ = Compute(perm, r.Add, r.Drop, r.Privileged)
		s = ForContainer(final, keep)
		b, _ := Compute(bnd, r.Add, r.Drop, r.Privileged)
		s.Bounding = b | keep
	}
	// A capability named in Add or Keep must be one we hold; ALL and
	// Privileged mean all of those we hold.
	named, _ := ParseNames(WithoutAll(slices.Concat(r.Add, r.Keep)))
	if missing := named &^ (perm & bnd); missing != 0 && !r.Privileged {
		return s, "", &NotHeldError{Missing: missing, Permitted: perm, Bounding: bnd}
	}
	s = s.Within(perm, bnd)
	s.NoNewPrivs = r.NoNewPrivs
	s.User, home, err = r.user()
	return s, home, err
}

// user looks up r's user. Docker always names one: without -u, the
// image's uid 0 entry (root), whose supplementary groups are then its
// GID (0) and the groups listing it; otherwise the process would keep
// the groups of whoever started it.
func (r Run) user() (*User, string, error) {
	if r.User == "" {
		if (r.DockerDefault || r.Privileged) && os.Geteuid() == 0 && SetgroupsAllowed() && len(r.Groups) == 0 {
			u, err := LookupUser(r.Root, "", nil)
			return u, "", err
		}
		return nil, "", nil
	}
	u, err := LookupUser(r.Root, r.User, r.Groups)
	if err != nil {
		return nil, "", err
	}
	return u, u.Home, nil
}
