package caps

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Status is the security state of a process as /proc/PID/status reports
// it: its five capability sets, no_new_privs and seccomp mode.
type Status struct {
	PID         int
	Name        string
	UID, GID    int // effective
	Groups      []int
	Inheritable Set
	Permitted   Set
	Effective   Set
	Bounding    Set
	Ambient     Set
	NoNewPrivs  bool
	Seccomp     int // 0 disabled, 1 strict, 2 filter
	Filters     int // number of seccomp filters attached (Linux 5.9+)
}

// SeccompModes names the values of the Seccomp line of /proc/PID/status.
var SeccompModes = []string{"disabled", "strict", "filter"}

// ReadStatus reads /proc/PID/status (pid 0: the calling process).
//
// The file shows the thread group leader; capabilities are per thread,
// so another thread of a process may differ (see /proc/PID/task/TID/status).
func ReadStatus(pid int) (*Status, error) {
	p := "/proc/self/status"
	if pid != 0 {
		p = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	st, err := ParseStatus(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return st, nil
}

// ParseStatus parses the contents of a /proc/PID/status file.
func ParseStatus(b []byte) (*Status, error) {
	st := &Status{}
	sets := map[string]*Set{
		"CapInh": &st.Inheritable, "CapPrm": &st.Permitted, "CapEff": &st.Effective,
		"CapBnd": &st.Bounding, "CapAmb": &st.Ambient,
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		fields := strings.Fields(val)
		switch key {
		case "Name":
			st.Name = val
		case "Pid":
			st.PID, _ = strconv.Atoi(val)
		case "Uid":
			if len(fields) > 1 {
				st.UID, _ = strconv.Atoi(fields[1])
			}
		case "Gid":
			if len(fields) > 1 {
				st.GID, _ = strconv.Atoi(fields[1])
			}
		case "Groups":
			for _, f := range fields {
				if g, err := strconv.Atoi(f); err == nil {
					st.Groups = append(st.Groups, g)
				}
			}
		case "NoNewPrivs":
			st.NoNewPrivs = val == "1"
		case "Seccomp":
			st.Seccomp, _ = strconv.Atoi(val)
		case "Seccomp_filters":
			st.Filters, _ = strconv.Atoi(val)
		default:
			if s, ok := sets[key]; ok {
				v, err := ParseHex(val)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", key, err)
				}
				*s = v
				seen++
			}
		}
	}
	if seen < 4 { // CapAmb appeared in Linux 4.3; the other four are older
		return nil, fmt.Errorf("no capability lines (CapInh, CapPrm, CapEff, CapBnd)")
	}
	return st, nil
}

// Describe returns s for people: "none", "all", "all except cap_x,cap_y"
// when most of the kernel's capabilities are present, or the names.
func Describe(s Set) string {
	all := All()
	switch {
	case s == 0:
		return "none"
	case s&all == all:
		if extra := s &^ all; extra != 0 {
			return "all, and unknown bits " + extra.String()
		}
		return "all"
	case s.Len() > all.Len()/2 && s&^all == 0:
		return "all except " + (all &^ s).String()
	}
	return s.String()
}
