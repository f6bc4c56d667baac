package caps

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	passwd, err := readColonFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		return nil, err
	}
	group, err := readColonFile(filepath.Join(root, "etc/group"))
	if err != nil {
		return nil, err
	}
	u := &User{Home: "/"}

	uid, uidErr := parseID(userArg)
	found := false
	for _, f := range passwd { // name:password:UID:GID:GECOS:directory:shell
		if len(f) < 4 {
			continue
		}
		fuid, err1 := parseID(f[2])
		fgid, err2 := parseID(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		if (userArg == "" && fuid == 0) || (uidErr == nil && fuid == uid) || (userArg != "" && uidErr != nil && f[0] == userArg) {
			u.Name, u.UID, u.GID = f[0], fuid, fgid
			if len(f) > 5 && f[5] != "" {
				u.Home = f[5]
			}
			found = true
			break // first match wins
		}
	}
	if !found && userArg != "" {
		if uidErr != nil {
			return nil, fmt.Errorf("unable to find user %s: no matching entries in %s", userArg, filepath.Join(root, "etc/passwd"))
		}
		u.UID = uid
	}

	var sgids []int
	if groupArg != "" {
		gid, err := lookupGroup(group, groupArg, root)
		if err != nil {
			return nil, err
		}
		u.GID = gid
	} else if u.Name != "" {
		for _, f := range group { // name:password:GID:user_list
			if len(f) < 4 {
				continue
			}
			gid, err := parseID(f[2])
			if err != nil {
				continue
			}
			for _, member := range strings.Split(f[3], ",") {
				if member == u.Name {
					sgids = append(sgids, gid)
				}
			}
		}
	}
	for _, g := range extra {
		gid, err := lookupGroup(group, g, root)
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

func lookupGroup(group [][]string, arg, root string) (int, error) {
	gid, gidErr := parseID(arg)
	for _, f := range group {
		if len(f) < 3 {
			continue
		}
		fgid, err := parseID(f[2])
		if err != nil {
			continue
		}
		if (gidErr == nil && fgid == gid) || (gidErr != nil && f[0] == arg) {
			return fgid, nil
		}
	}
	if gidErr != nil {
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

// readColonFile reads an /etc/passwd-style file into its lines' fields.
// A missing file is no error (a scratch image has none): numbers still
// work, as with Docker.
func readColonFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
