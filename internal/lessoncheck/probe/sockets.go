package probe

import (
	"fmt"
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
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue
		}
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
	for _, p := range Processes() {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID))
		for _, fd := range fds {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.PID, fd.Name())); inodes[l] {
				return p, nil
			}
		}
	}
	return Proc{}, fmt.Errorf("a socket listens on port %d, but no process holds it", port)
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
