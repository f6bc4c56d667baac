package probe

import (
	"fmt"
	"iter"
	"os"
	"strconv"
	"strings"
)

// Socket is one line of /proc/net/tcp or tcp6.
type Socket struct {
	Port  int
	State string // "0A" is LISTEN
	UID   string
	Inode string
}

// ParseTCP parses /proc/net/tcp (and tcp6): a header, then
//
//	sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
//	0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534 0 12345 ...
func ParseTCP(text string) []Socket {
	var out []Socket
	for _, f := range procNetRows(text, 10) {
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		port, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil {
			continue
		}
		out = append(out, Socket{Port: int(port), State: f[3], UID: f[7], Inode: f[9]})
	}
	return out
}

// procNetRows yields the rows of a /proc/net table (a header, then one
// row a line, numbered "N:") that have min fields or more: each line
// with its fields. The header's first field has no colon.
func procNetRows(text string, min int) iter.Seq2[string, []string] {
	return func(yield func(string, []string) bool) {
		for _, line := range strings.Split(text, "\n") {
			f := strings.Fields(line)
			if len(f) >= min && strings.HasSuffix(f[0], ":") && !yield(line, f) {
				return
			}
		}
	}
}

// Listener finds the process holding a TCP socket that listens on port,
// in the checker's network namespace.
func Listener(port int) (Proc, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range ParseTCP(string(b)) {
			if s.Port == port && s.State == "0A" {
				inodes["socket:["+s.Inode+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return Proc{}, fmt.Errorf("nothing listens on port %d", port)
	}
	return holder(inodes, fmt.Sprintf("port %d", port))
}

// holder finds a process that has one of the sockets open (its
// /proc/PID/fd links read "socket:[INODE]").
func holder(inodes map[string]bool, what string) (Proc, error) {
	for _, p := range Processes() {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID))
		for _, fd := range fds {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.PID, fd.Name())); inodes[l] {
				return p, nil
			}
		}
	}
	return Proc{}, fmt.Errorf("a socket listens on %s, but no process holds it", what)
}

// UnixSocket is one line of /proc/net/unix.
type UnixSocket struct {
	Listening bool // the __SO_ACCEPTCON flag (0x10000): listen(2) was called
	Inode     string
	Path      string // "" for an unnamed socket; "@name" for the abstract namespace
}

// ParseUnix parses /proc/net/unix: a header, then
//
//	Num       RefCount Protocol Flags    Type St Inode Path
//	0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/mini-docker.sock
//
// The path is chosen by whoever binds, spaces and all: it is everything
// after the seventh field.
func ParseUnix(text string) []UnixSocket {
	var out []UnixSocket
	for line, f := range procNetRows(text, 7) {
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil {
			continue
		}
		rest := line
		for range 7 {
			rest = strings.TrimLeft(rest, " ")
			if i := strings.IndexByte(rest, ' '); i >= 0 {
				rest = rest[i:]
			} else {
				rest = ""
			}
		}
		out = append(out, UnixSocket{Listening: flags&0x10000 != 0, Inode: f[6], Path: strings.TrimPrefix(rest, " ")})
	}
	return out
}

// UnixListener finds the process holding a unix socket that listens at
// path, in the checker's network namespace (/proc/net/unix lists that
// namespace's sockets).
func UnixListener(path string) (Proc, error) {
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return Proc{}, NotThere(err)
	}
	inodes := map[string]bool{}
	for _, u := range ParseUnix(string(b)) {
		if u.Listening && u.Path == path {
			inodes["socket:["+u.Inode+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return Proc{}, fmt.Errorf("nothing listens on %s", path)
	}
	return holder(inodes, path)
}

// GroupIn finds the group of controller ctrl in the text of
// /proc/PID/cgroup, whose lines read "ID:CONTROLLERS:PATH" ("4:memory:/a"
// on v1, "0::/a" for the v2 tree). Group names are chosen by whoever
// makes them, so only the first two colons split.
func GroupIn(text, ctrl string, v2 bool) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		if v2 && parts[0] == "0" && parts[1] == "" {
			return parts[2], true
		}
		if v2 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == ctrl {
				return parts[2], true
			}
		}
	}
	return "", false
}
