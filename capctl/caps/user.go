package caps

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/inroot"
)

// User is the identity a command runs as: what setgroups, setresgid and
// setresuid receive.
type User struct {
	UID    int
	GID    int
	Groups []int  // supplementary groups: GID first, then the others, without duplicates
	Home   string // from /etc/passwd, "/" when unknown (runc's default)
	Name   string // matched user name, "" for a bare number
}

const maxID = 1<<31 - 1

// LookupUser resolves a user spec the way `docker run -u` does (runc's
// GetExecUser, then Docker's additional groups), reading ROOT/etc/passwd
// and ROOT/etc/group of the root the command will run in (not the host's):
//
//	NAME | UID [:GROUP | :GID]      ("" = Docker's default user: uid 0)
//
// A name must exist in /etc/passwd; a number need not (it then gets gid 0
// and home "/"). Without an explicit group, the primary group is the
// user's from /etc/passwd and the user's groups are every group of
// /etc/group that lists its name; with an explicit group, only that one.
// The supplementary groups are then the primary GID first (Docker always
// puts it there: root gets 0, -u 1000:1000 gets 1000), the user's groups,
// and extra (docker run --group-add, names or numbers), each once.
func LookupUser(root, spec string, extra []string) (*User, error) {
	userArg, groupArg, _ := strings.Cut(spec, ":")
	if userArg == "" && groupArg != "" {
		return nil, fmt.Errorf("user %q: no user name or id", spec)
	}
	u := &User{Home: "/"}
	uid, uidErr := parseID(userArg)
	found := false
	err := eachLine(root, "etc/passwd", func(f []string) bool { // name:password:UID:GID:GECOS:directory:shell
		if len(f) < 4 {
			return true
		}
		fuid, err1 := parseID(f[2])
		fgid, err2 := parseID(f[3])
		if err1 != nil || err2 != nil {
			return true
		}
		if (userArg == "" && fuid == 0) || (uidErr == nil && fuid == uid) || (userArg != "" && uidErr != nil && f[0] == userArg) {
			u.Name, u.UID, u.GID = f[0], fuid, fgid
			if len(f) > 5 && f[5] != "" {
				u.Home = f[5]
			}
			found = true
			return false // first match wins
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if !found && userArg != "" {
		if uidErr != nil {
			return nil, fmt.Errorf("unable to find user %s: no matching entries in %s", userArg, filepath.Join(root, "etc/passwd"))
		}
		u.UID = uid
	}

	var sgids []int
	if groupArg != "" {
		gid, err := lookupGroup(root, groupArg)
		if err != nil {
			return nil, err
		}
		u.GID = gid
	} else if u.Name != "" {
		err := eachLine(root, "etc/group", func(f []string) bool { // name:password:GID:user_list
			if len(f) < 4 {
				return true
			}
			if gid, err := parseID(f[2]); err == nil && slices.Contains(strings.Split(f[3], ","), u.Name) {
				sgids = append(sgids, gid)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	for _, g := range extra {
		gid, err := lookupGroup(root, g)
		if err != nil {
			return nil, err
		}
		sgids = append(sgids, gid)
	}
	u.Groups = []int{u.GID}
	for _, g := range sgids {
		u.Groups = appendOnce(u.Groups, g)
	}
	return u, nil
}

// lookupGroup finds a group by name or number in root's /etc/group; a
// number need not be listed.
func lookupGroup(root, arg string) (int, error) {
	gid, gidErr := parseID(arg)
	found := -1
	err := eachLine(root, "etc/group", func(f []string) bool {
		if len(f) < 3 {
			return true
		}
		fgid, err := parseID(f[2])
		if err == nil && ((gidErr == nil && fgid == gid) || (gidErr != nil && f[0] == arg)) {
			found = fgid
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case found >= 0:
		return found, nil
	case gidErr != nil:
		return 0, fmt.Errorf("unable to find group %s: no matching entries in %s", arg, filepath.Join(root, "etc/group"))
	}
	return gid, nil
}

func parseID(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > maxID {
		return 0, fmt.Errorf("id %d out of range", n)
	}
	return n, nil
}

func appendOnce(list []int, v int) []int {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// maxUserFile bounds an /etc/passwd or /etc/group: the root may be an
// image, and an image is an attacker.
const maxUserFile = 8 << 20

// eachLine calls fn with the fields of each line of the /etc/passwd-style
// file name (etc/passwd) of root, until fn returns false. A missing file
// is no error (a scratch image has none): numbers still work, as with
// Docker. The file is opened as a process chrooted in root would open
// it: its path, symlinks included (absolute ones too), resolved inside
// root by the kernel (openat2 RESOLVE_IN_ROOT), so a link to a host file
// reads nothing of the host's; a regular file only (a fifo would block
// the start), at most 8 MiB.
func eachLine(root, name string, fn func(fields []string) bool) error {
	shown := filepath.Join(root, name)
	f, err := inroot.OpenRegular(root, name)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", shown, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return fmt.Errorf("read %s: %w", shown, err)
	} else if st.Size() > maxUserFile {
		return fmt.Errorf("read %s: larger than %d bytes", shown, maxUserFile)
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxUserFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !fn(strings.Split(line, ":")) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", shown, err)
	}
	return nil
}
