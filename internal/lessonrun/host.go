package lessonrun

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/riskycalls"
)

// Host is what a lesson's output may depend on: how the host mounts its
// cgroups, its kernel, whether it runs 32-bit x86 calls, and Docker's
// engine. A console block marked `host=COND` runs only where COND holds.
type Host struct {
	Cgroup cgroup.Mode // v2, v1 or hybrid, as cgroupctl detects it
	Kernel string      // uname -r
	IA32   bool        // int 0x80 works (IA32 emulation)
	Docker string      // the engine's version; "" when none answers
}

// hostTerms are the words a host condition is made of, and what each
// asks of the host.
var hostTerms = map[string]func(h *Host) bool{
	"cgroup-v2":     func(h *Host) bool { return h.Cgroup == cgroup.V2 },
	"cgroup-v1":     func(h *Host) bool { return h.Cgroup == cgroup.V1 },
	"cgroup-hybrid": func(h *Host) bool { return h.Cgroup == cgroup.Hybrid },
	"ia32":          func(h *Host) bool { return h.IA32 },
	"no-ia32":       func(h *Host) bool { return !h.IA32 },
}

func termNames() string {
	var n []string
	for t := range hostTerms {
		n = append(n, t)
	}
	sort.Strings(n)
	return strings.Join(append(n, "kernel>=X.Y", "kernel<X.Y"), ", ")
}

// term looks up one word of a condition: a name of hostTerms, or a
// comparison with the kernel's version, "kernel>=6.8" or "kernel<6.8".
func term(t string) (func(h *Host) bool, error) {
	if f, ok := hostTerms[t]; ok {
		return f, nil
	}
	for _, op := range []string{">=", "<"} {
		v, ok := strings.CutPrefix(t, "kernel"+op)
		if !ok {
			continue
		}
		want, err := parseVersion(v)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", t, err)
		}
		atLeast := func(h *Host) bool {
			have, err := parseVersion(h.Kernel)
			return err == nil && (have[0] > want[0] || have[0] == want[0] && have[1] >= want[1])
		}
		if op == "<" {
			return func(h *Host) bool { return !atLeast(h) }, nil
		}
		return atLeast, nil
	}
	return nil, fmt.Errorf("unknown host term %q", t)
}

// parseVersion reads the major and minor numbers of a kernel release
// ("6.12.48+deb13-amd64" is 6, 12).
func parseVersion(s string) ([2]int, error) {
	var v [2]int
	if _, err := fmt.Sscanf(s, "%d.%d", &v[0], &v[1]); err != nil {
		return v, fmt.Errorf("not a kernel version MAJOR.MINOR: %q", s)
	}
	return v, nil
}

// DetectHost looks at the host once: the cgroup mode with cgroupctl's
// own detection (cgroup.Detect), IA32 emulation with the int 0x80 probe
// `syscalls int80` uses (riskycalls.IA32Emulation), the kernel's release,
// and the version Docker's engine reports, if one answers.
func DetectHost() (*Host, error) {
	cg, err := cgroup.Detect()
	if err != nil {
		return nil, fmt.Errorf("detect the host: %w", err)
	}
	ia32, err := riskycalls.IA32Emulation()
	if err != nil {
		return nil, fmt.Errorf("detect the host: %w", err)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("detect the host: uname: %w", err)
	}
	return &Host{Cgroup: cg.Mode, Kernel: unix.ByteSliceToString(u.Release[:]), IA32: ia32, Docker: dockerVersion()}, nil
}

// dockerVersion asks Docker's engine for its version, as lesson 10 does.
func dockerVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// String is the line the runner prints before a lesson:
// "host: cgroup v2, kernel 6.12.48, ia32 yes, docker 26.1.5".
func (h *Host) String() string {
	ia32, docker := "no", "none"
	if h.IA32 {
		ia32 = "yes"
	}
	if h.Docker != "" {
		docker = h.Docker
	}
	return fmt.Sprintf("host: cgroup %s, kernel %s, ia32 %s, docker %s", h.Cgroup, h.Kernel, ia32, docker)
}

// Cond is a block's host condition, from `host=COND` in its info string:
// terms joined by "," must all hold, terms joined by "|" are
// alternatives. "cgroup-v2", "cgroup-v1|cgroup-hybrid",
// "cgroup-v2,no-ia32", "kernel<6.8". The zero Cond holds on every host.
type Cond struct {
	Text string                 // as written
	all  [][]func(h *Host) bool // each inner list: alternatives, one must hold
}

// ParseCond parses the text after `host=`.
func ParseCond(text string) (Cond, error) {
	c := Cond{Text: text}
	for _, part := range strings.Split(text, ",") {
		var alts []func(h *Host) bool
		for _, t := range strings.Split(part, "|") {
			f, err := term(t)
			if err != nil {
				return Cond{}, fmt.Errorf("host=%s: %w (known: %s; join with , for and, | for or)", text, err, termNames())
			}
			alts = append(alts, f)
		}
		c.all = append(c.all, alts)
	}
	return c, nil
}

// Holds reports whether the condition is true of h.
func (c Cond) Holds(h *Host) bool {
	for _, alts := range c.all {
		ok := false
		for _, holds := range alts {
			ok = ok || holds(h)
		}
		if !ok {
			return false
		}
	}
	return true
}
