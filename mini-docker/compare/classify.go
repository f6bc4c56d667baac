package compare

import (
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mark is a row's verdict.
type Mark string

const (
	Same    Mark = "✓" // the same value
	Must    Mark = "~" // differs only where it must (IDs, addresses, paths)
	Differs Mark = "✗" // a real difference
)

// Absent stands for a key one side did not print.
const Absent = "(absent)"

// Row is one key with both values.
type Row struct {
	Key    string `json:"key"`
	Docker string `json:"docker"`
	Mini   string `json:"mini_docker"`
	Mark   Mark   `json:"mark"`
	Why    string `json:"why,omitempty"`
}

// Context is what the rules need to know about the runs.
type Context struct {
	// DockerBridge: Docker's default network has a bridge (not so when
	// dockerd runs with --bridge=none, as it does here and in CI).
	DockerBridge bool
	RunFlags     []string
	// OtherHostNet: compare runs in another network namespace than
	// dockerd (a test's or a lesson's), so with --network host each side
	// joins a different "host" network.
	OtherHostNet bool
	// DockerVersion is the engine's (docker version's Server.Version):
	// some rows differ only by what one engine version does.
	DockerVersion string
	// NoDockerSwap: the engine reports no swap limit support (docker
	// info's SwapLimit false), so it sets no swap limit.
	NoDockerSwap bool
}

// rule explains a difference: it returns the mark and the reason, or
// ok=false when it does not apply to this row.
type rule func(key, docker, mini string, d, m Side, c Context) (mark Mark, why string, ok bool)

// rules are tried in order on every row whose values differ.
var rules = []rule{
	containerID,
	probeArgument,
	overlayRoot,
	runtimeFiles,
	cgroupPath,
	etcHosts,
	noDockerBridge,
	otherHostNetwork,
	addresses,
	newerSeccompProfile,
	newerMaskedPath,
	olderLoopbackIPv6,
	newerResolvConfText,
	inheritedRlimit,
	noDockerSwapLimit,
}

// Classify lines up the keys of both sides (Docker's order, with keys
// only mini-docker printed placed after their neighbours) and marks
// each row.
func Classify(d, m Side, c Context) []Row {
	var rows []Row
	for _, k := range mergeKeys(d.Keys, m.Keys) {
		dv, dok := d.Values[k]
		mv, mok := m.Values[k]
		if !dok {
			dv = Absent
		}
		if !mok {
			mv = Absent
		}
		row := Row{Key: k, Docker: dv, Mini: mv, Mark: Same}
		if dv != mv {
			row.Mark, row.Why = Differs, ""
			for _, r := range rules {
				if mark, why, ok := r(k, dv, mv, d, m, c); ok {
					row.Mark, row.Why = mark, why
					break
				}
			}
			if row.Mark == Differs && row.Why == "" {
				switch {
				case !dok:
					row.Why = "only mini-docker has it"
				case !mok:
					row.Why = "only Docker has it"
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func mergeKeys(a, b []string) []string {
	out := append([]string(nil), a...)
	in := map[string]bool{}
	for _, k := range a {
		in[k] = true
	}
	prev := ""
	for _, k := range b {
		if !in[k] {
			at := len(out)
			if prev != "" {
				for i, x := range out {
					if x == prev {
						at = i + 1
						break
					}
				}
			}
			out = append(out[:at], append([]string{k}, out[at:]...)...)
			in[k] = true
		}
		prev = k
	}
	return out
}

var (
	shortID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{12}$`) })
	longID  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`/(docker|mini-docker)/[0-9a-f]{64}`) })
)

// containerID: the host name is the container's ID, new every run.
func containerID(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	switch key {
	case "hostname", "etc.hostname", "env.HOSTNAME":
		if shortID().MatchString(dv) && shortID().MatchString(mv) {
			return Must, "the container ID", true
		}
	}
	return "", "", false
}

// probeArgument: PID 1 is the probe, whose --host-ns argument carries
// each side's host namespaces.
func probeArgument(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	if key != "pid1.cmd" {
		return "", "", false
	}
	strip := regexp.MustCompile(`--host-ns=\S*`)
	if strip.ReplaceAllString(dv, "--host-ns=") == strip.ReplaceAllString(mv, "--host-ns=") {
		return Same, "the probe's own --host-ns argument aside", true
	}
	return "", "", false
}

// overlayRoot: the root is an overlay of each runtime's own layer
// folders; "uuid=" is what the kernel chose for those folders. A --rm
// container's root is mounted volatile (its upper layer is thrown away,
// so nothing in it is synced, as podman does for --rm): the kernel shows
// "volatile" or "fsync=volatile".
func overlayRoot(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	if key != "mount./" {
		return "", "", false
	}
	volatile := false
	norm := func(v string) string {
		f := strings.Fields(v)
		if len(f) != 3 {
			return v
		}
		var keep []string
		for _, o := range strings.Split(f[2], ",") {
			name, _, _ := strings.Cut(o, "=")
			switch strings.TrimSuffix(name, "+") {
			case "lowerdir", "upperdir", "workdir", "datadir", "uuid":
				continue
			}
			if o == "volatile" || o == "fsync=volatile" {
				volatile = true
				continue
			}
			keep = append(keep, o)
		}
		return f[0] + " " + f[1] + " " + strings.Join(keep, ",")
	}
	if norm(dv) == norm(mv) {
		if volatile {
			return Must, "layer folders of each runtime's store; --rm mounts it volatile", true
		}
		return Must, "layer folders of each runtime's store", true
	}
	return "", "", false
}

// runtimeFiles: /etc/hostname, /etc/hosts, /etc/resolv.conf and the
// probe's folder are bind mounts of files the runtime keeps on the host;
// which filesystem holds them is the host's business, the per-mount
// options (ro, nosuid, ...) are the runtime's.
func runtimeFiles(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	switch key {
	case "mount./etc/hostname", "mount./etc/hosts", "mount./etc/resolv.conf", "mount." + probeDir:
	default:
		return "", "", false
	}
	df, mf := strings.Fields(dv), strings.Fields(mv)
	if len(df) >= 2 && len(mf) >= 2 && df[1] == mf[1] {
		return Must, "the host filesystem that holds each runtime's files", true
	}
	return "", "", false
}

// cgroupPath: each runtime's parent group and the container's ID, in
// /proc/self/cgroup and in the part of each hierarchy mounted at
// /sys/fs/cgroup/CONTROLLER.
func cgroupPath(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	if !strings.HasPrefix(key, "cgroup.path.") && !strings.HasPrefix(key, "mount./sys/fs/cgroup/") {
		return "", "", false
	}
	norm := func(v string) string { return longID().ReplaceAllString(v, "/RUNTIME/ID") }
	if norm(dv) == norm(mv) {
		return Must, "each runtime's parent group and the container ID", true
	}
	return "", "", false
}

// etcHosts: the container's own line (its address and ID) aside.
func etcHosts(key, dv, mv string, d, m Side, _ Context) (Mark, string, bool) {
	if key != "etc.hosts" {
		return "", "", false
	}
	norm := func(v, host string) string {
		var keep []string
		for _, l := range strings.Split(v, " ; ") {
			f := strings.Fields(l)
			if len(f) >= 2 && net.ParseIP(f[0]) != nil && host != "" && containsField(f[1:], host) {
				continue
			}
			keep = append(keep, l)
		}
		return strings.Join(keep, " ; ")
	}
	if norm(dv, d.Values["hostname"]) == norm(mv, m.Values["hostname"]) {
		return Must, "the container's own line (its address and ID)", true
	}
	return "", "", false
}

func containsField(f []string, s string) bool {
	for _, x := range f {
		if x == s {
			return true
		}
	}
	return false
}

// noDockerBridge: dockerd started with --bridge=none has no default
// network, so a container without --network gets only lo, where
// mini-docker's default bridge gives it eth0 as well.
func noDockerBridge(key, dv, mv string, _, _ Side, c Context) (Mark, string, bool) {
	if c.DockerBridge || hasNetworkFlag(c.RunFlags) {
		return "", "", false
	}
	why := "dockerd runs with --bridge=none: Docker's default network has no eth0 here"
	switch {
	case key == "net.links":
		if dv == "lo" && strings.HasPrefix(mv, "lo ") {
			return Must, why, true
		}
	case key == "net.route.default":
		if dv == "none" {
			return Must, why, true
		}
	case key == "etc.resolv.conf":
		// Docker 26 gives a container without a network endpoint the
		// host's file untransformed (this host's names no nameserver);
		// mini-docker's bridge gets the public fallback nameservers.
		d, want := resolvDirectives(dv), "nameserver 8.8.8.8\nnameserver 8.8.4.4"
		if d != "" {
			want += "\n" + d
		}
		if !strings.Contains(d, "nameserver ") && resolvDirectives(mv) == want {
			return Must, why + "; Docker's resolv.conf is the host's (no nameserver), mini-docker's bridge has the fallback ones", true
		}
	case strings.HasPrefix(key, "net.link."), strings.HasPrefix(key, "net.mac."), strings.HasPrefix(key, "net.addr."):
		if dv == Absent && !strings.HasSuffix(key, ".lo") {
			return Must, why, true
		}
	}
	return "", "", false
}

// otherHostNetwork: with --network host the container shares the
// network of whoever made it; when compare does not run in dockerd's
// network namespace, those are two different networks.
func otherHostNetwork(key, dv, mv string, _, _ Side, c Context) (Mark, string, bool) {
	if !c.OtherHostNet || networkMode(c.RunFlags) != "host" {
		return "", "", false
	}
	if strings.HasPrefix(key, "net.") || strings.HasPrefix(key, "sysctl.net.") {
		return Must, "--network host, and compare runs in another network namespace than dockerd", true
	}
	return "", "", false
}

// networkMode is the value of --network (or --net) in flags, "" if none.
func networkMode(flags []string) string {
	for i, f := range flags {
		for _, name := range []string{"--network", "--net"} {
			if f == name && i+1 < len(flags) {
				return flags[i+1]
			}
			if v, ok := strings.CutPrefix(f, name+"="); ok {
				return v
			}
		}
	}
	return ""
}

// inheritedRlimit: a resource limit no --ulimit sets is inherited from
// the process that starts the container: dockerd's (its systemd unit's
// LimitNOFILE, ...) for Docker, the shell that ran mini-docker for ours.
// One --ulimit names it, and then both must agree exactly.
func inheritedRlimit(key, _, _ string, _, _ Side, c Context) (Mark, string, bool) {
	name, ok := strings.CutPrefix(key, "rlimit.")
	if !ok {
		return "", "", false
	}
	for i, f := range c.RunFlags {
		v, ok := strings.CutPrefix(f, "--ulimit=")
		if !ok && f == "--ulimit" && i+1 < len(c.RunFlags) {
			v, ok = c.RunFlags[i+1], true
		}
		if ok && strings.HasPrefix(v, name+"=") {
			return "", "", false
		}
	}
	return Must, "no --ulimit sets it: each side inherits its starter's limit (dockerd's, the shell's)", true
}

func hasNetworkFlag(flags []string) bool {
	for _, f := range flags {
		if f == "--network" || f == "--net" || strings.HasPrefix(f, "--network=") || strings.HasPrefix(f, "--net=") {
			return true
		}
	}
	return false
}

// addresses: MAC and IP addresses come from each runtime's own pool;
// the number of addresses and their prefix lengths must still agree.
func addresses(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	switch {
	case strings.HasPrefix(key, "net.mac."):
		if _, err := net.ParseMAC(dv); err == nil {
			if _, err := net.ParseMAC(mv); err == nil {
				return Must, "MAC address", true
			}
		}
	case strings.HasPrefix(key, "net.addr."), key == "net.route.default":
		if maskAddrs(dv) == maskAddrs(mv) {
			return Must, "addresses from each runtime's subnet", true
		}
	}
	return "", "", false
}

var ipLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[0-9a-fA-F:.]*[:.][0-9a-fA-F:.]+`) })

// maskAddrs replaces each address by its family, keeping prefix lengths:
// "172.17.0.2/16 fe80::1/64" -> "IPv4/16 IPv6-link-local/64".
func maskAddrs(s string) string {
	return ipLike().ReplaceAllStringFunc(s, func(a string) string {
		ip := net.ParseIP(a)
		switch {
		case ip == nil:
			return a
		case ip.IsLinkLocalUnicast():
			return "IPv6-link-local"
		case ip.To4() != nil:
			return "IPv4"
		default:
			return "IPv6"
		}
	})
}

// newerSeccompProfile: seccompctl's default profile is Docker's as of
// 2026, which refuses AF_ALG (CVE-2026-31431) and AF_VSOCK sockets; an
// older engine's profile lets them through (EAFNOSUPPORT: the kernel has
// no such family, so it got past the filter).
func newerSeccompProfile(key, dv, mv string, d, m Side, _ Context) (Mark, string, bool) {
	if key != "syscall.socket_alg" && key != "syscall.socket_vsock" {
		return "", "", false
	}
	if d.Values["seccomp"] == "2" && m.Values["seccomp"] == "2" && mv == "EPERM" && (dv == "OK" || dv == "EAFNOSUPPORT") {
		return Must, "mini-docker has Docker's 2026 seccomp profile (AF_ALG, AF_VSOCK refused); this engine's is older", true
	}
	return "", "", false
}

// newerMaskedPath: newer Docker engines (28 does) also mask
// /proc/interrupts, as mini-docker does; an older engine leaves it
// readable and has no mount there.
func newerMaskedPath(key, dv, mv string, _, _ Side, _ Context) (Mark, string, bool) {
	why := "mini-docker masks /proc/interrupts as newer Docker does (28); this engine does not"
	switch key {
	case "masked./proc/interrupts":
		if strings.HasPrefix(dv, "file read=OK") && strings.HasPrefix(mv, "chardev read=empty") {
			return Must, why, true
		}
	case "mount./proc/interrupts":
		if dv == Absent && strings.HasSuffix(mv, " root=/null") {
			return Must, why, true
		}
	}
	return "", "", false
}

// dockerMajor is the engine's major version (26 of "26.1.5+dfsg1"), 0
// when unknown.
func dockerMajor(c Context) int {
	v, _, _ := strings.Cut(c.DockerVersion, ".")
	n, _ := strconv.Atoi(v)
	return n
}

// olderLoopbackIPv6: mini-docker leaves IPv6 on in a container's network
// namespace, as Docker 26 does (moby#47062: lo holds ::1/128 where the
// kernel has IPv6); an older engine (20.10) turned it off in a --network
// none container, leaving lo 127.0.0.1/8 only.
func olderLoopbackIPv6(key, dv, mv string, _, _ Side, c Context) (Mark, string, bool) {
	if key == "net.addr.lo" && dockerMajor(c) > 0 && dockerMajor(c) < 26 && dv == "127.0.0.1/8" && mv == "127.0.0.1/8 ::1/128" {
		return Must, "lo keeps ::1 as in Docker 26; this engine turns IPv6 off with --network none", true
	}
	return "", "", false
}

// newerResolvConfText: Docker 26 writes /etc/resolv.conf with comments of
// its own (a header saying it generated the file, the host file it is
// based on, whether it used the default nameservers) and with the
// nameservers first; mini-docker writes it as Docker 20.10 did. The
// nameserver, search and options lines must still be the same.
func newerResolvConfText(key, dv, mv string, _, _ Side, c Context) (Mark, string, bool) {
	if key == "etc.resolv.conf" && dockerMajor(c) >= 26 && resolvDirectives(dv) == resolvDirectives(mv) {
		return Must, "Docker 26's own comments and order of lines; the same nameserver, search and options lines", true
	}
	return "", "", false
}

// resolvDirectives is a probed resolv.conf (lines joined by " ; ") without
// comments and blank lines: nameserver lines, then search (or domain),
// options and any other, each kind in the file's order.
func resolvDirectives(v string) string {
	var kinds [4][]string
	for _, l := range strings.Split(v, " ; ") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0][0] == '#' || f[0][0] == ';' {
			continue
		}
		kind := 3
		switch f[0] {
		case "nameserver":
			kind = 0
		case "search", "domain":
			kind = 1
		case "options":
			kind = 2
		}
		kinds[kind] = append(kinds[kind], strings.Join(f, " "))
	}
	return strings.Join(slices.Concat(kinds[:]...), "\n")
}

// noDockerSwapLimit: an engine without swap limit support (a dockerd in
// the root cgroup of a pure v2 host finds no memory.swap.max to probe)
// leaves swap unlimited, where mini-docker sets memory.swap.max as
// Docker does on a host that has it.
func noDockerSwapLimit(key, dv, _ string, _, _ Side, c Context) (Mark, string, bool) {
	if key == "cgroup.memory.swap.max" && c.NoDockerSwap && dv == "max" {
		return Must, "this engine reports no swap limit support (docker info: SwapLimit false), so it sets no swap limit", true
	}
	return "", "", false
}
