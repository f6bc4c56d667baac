// Command probe prints what a container sees, as stable "key: value"
// lines, so two runtimes can be compared line by line (mini-docker
// compare runs it under docker run and under mini-docker run).
//
//	probe [--host-ns mnt=INODE,uts=INODE,...]
//
// Each group of keys is one thing a runtime sets up, in the order the
// lessons build them:
//
//	ns.*        which namespaces differ from the host's (lesson 02)
//	mount.*     every mount: type, per-mount and filesystem options (01, 04)
//	dev.*       the /dev entries with their device numbers (01)
//	masked.* readonly.*   what reading and writing Docker's hidden paths gives (01)
//	cgroup.*    the cgroup path and its memory, CPU and pids limits (03)
//	rlimit.*    the resource limits, soft and hard (docker run --ulimit)
//	net.*, sysctl.*   links, addresses, the network sysctls Docker sets (05)
//	cap.*, nonewprivs, uid, gid, groups   (06)
//	seccomp, syscall.*   the filter and what it answers (07)
//	hostname, env.*, etc.*, pid1, pids, fds   the container's identity (09)
//
// The probe only reads, except where a write is the question: writes open
// a file for writing without writing a byte, and a test folder made by
// mkdir is removed at once. It is static, so it runs in any image.
//
// It belongs to lesson 10 (lessons/10-versus-docker.md).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/internal/mountinfo"
	"mini-docker/internal/procfs"
	"mini-docker/internal/riskycalls"
)

// out collects the lines; keys repeat only when a value really repeats
// (a path mounted twice gets "#2").
type out struct {
	seen map[string]int
	w    *bufio.Writer
}

func (o *out) put(key, value string) {
	o.seen[key]++
	if n := o.seen[key]; n > 1 {
		key += "#" + strconv.Itoa(n)
	}
	value = strings.ReplaceAll(value, "\n", " ; ")
	fmt.Fprintf(o.w, "%s: %s\n", key, value)
}

func main() {
	riskycalls.ChildMain()
	hostNS := map[string]string{}
	args := os.Args[1:]
	for len(args) > 0 {
		switch {
		case args[0] == "--host-ns" && len(args) > 1:
			parseHostNS(hostNS, args[1])
			args = args[2:]
		case strings.HasPrefix(args[0], "--host-ns="):
			parseHostNS(hostNS, strings.TrimPrefix(args[0], "--host-ns="))
			args = args[1:]
		default:
			fmt.Fprintf(os.Stderr, "probe: error: unknown argument %q\nusage: probe [--host-ns mnt=INODE,net=INODE,...]\n", args[0])
			os.Exit(2)
		}
	}
	o := &out{seen: map[string]int{}, w: bufio.NewWriter(os.Stdout)}
	defer o.w.Flush()

	// Before anything else opens a file: which descriptors were inherited.
	fds(o)
	identity(o)
	processes(o)
	namespaces(o, hostNS)
	mounts(o)
	devices(o)
	hiddenPaths(o)
	etcFiles(o)
	cgroups(o)
	rlimits(o)
	network(o)
	for _, r := range riskycalls.Run() {
		o.put("syscall."+r.Name, riskycalls.Outcome(r.Err))
	}
}

func parseHostNS(m map[string]string, s string) {
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
}

// errName is "OK" or the errno's name, as riskycalls prints it.
func errName(err error) string { return riskycalls.Outcome(unwrapErrno(err)) }

func unwrapErrno(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// fds lists the open file descriptors: a runtime must close its own
// before exec, so the container starts with 0, 1 and 2 only. Beyond 2
// each gets what it points to, without the inode number ("pipe:[]").
func fds(o *out) {
	var open []string
	for fd := 0; fd < 1024; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue
		}
		s := strconv.Itoa(fd)
		if fd > 2 {
			t, _ := os.Readlink("/proc/self/fd/" + s)
			if goRuntimeFile.MatchString(t) {
				continue
			}
			s += "=" + inodeNumber.ReplaceAllString(t, "[]")
		}
		open = append(open, s)
	}
	o.put("fds", strings.Join(open, " "))
}

var inodeNumber = regexp.MustCompile(`\[[0-9]+\]`)

// goRuntimeFile: the probe's own Go runtime keeps the CPU quota files
// open to size GOMAXPROCS from the cgroup limit (Go 1.25+).
var goRuntimeFile = regexp.MustCompile(`^/sys/fs/cgroup/.*cpu\.(cfs_quota_us|cfs_period_us|max)$`)

// identity: capabilities, no_new_privs, seccomp, ids (from
// /proc/self/status, the kernel's own view), hostname, cwd, environment.
func identity(o *out) {
	status := map[string]string{}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				status[k] = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	for _, k := range []struct{ key, field string }{
		{"cap.inheritable", "CapInh"}, {"cap.permitted", "CapPrm"}, {"cap.effective", "CapEff"},
		{"cap.bounding", "CapBnd"}, {"cap.ambient", "CapAmb"},
		{"nonewprivs", "NoNewPrivs"}, {"seccomp", "Seccomp"}, {"seccomp.filters", "Seccomp_filters"},
		{"uid", "Uid"}, {"gid", "Gid"}, {"groups", "Groups"}, {"umask", "Umask"},
	} {
		o.put(k.key, status[k.field])
	}
	h, err := os.Hostname()
	if err != nil {
		h = errName(err)
	}
	// The OOM killer's preference: Docker gives containers 0 whatever
	// dockerd's own value is.
	o.put("oom_score_adj", readOr("/proc/self/oom_score_adj"))
	o.put("hostname", h)
	o.put("etc.hostname", readOr("/etc/hostname"))
	wd, err := os.Getwd()
	if err != nil {
		wd = errName(err)
	}
	o.put("cwd", wd)
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		o.put("env."+k, v)
	}
}

func readOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return errName(err)
	}
	return strings.TrimRight(string(b), "\n")
}

// processes: PID 1's command line and every PID this PID namespace shows.
func processes(o *out) {
	cmd, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		o.put("pid1.cmd", errName(err))
	} else {
		o.put("pid1.cmd", strings.Join(strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00"), " "))
	}
	o.put("pid.self", strconv.Itoa(os.Getpid()))
	pids := procfs.PIDs()
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	o.put("pids", strings.Join(s, " "))
}

// namespaces: "new" when /proc/self/ns/X differs from the inode the
// caller passed for its host, "host" when equal.
func namespaces(o *out, host map[string]string) {
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+ns, &st); err != nil {
			o.put("ns."+ns, errName(err))
			continue
		}
		h, ok := host[ns]
		switch {
		case !ok:
			o.put("ns."+ns, "inode "+strconv.FormatUint(st.Ino, 10))
		case h == strconv.FormatUint(st.Ino, 10):
			o.put("ns."+ns, "host")
		default:
			o.put("ns."+ns, "new")
		}
	}
}

// mounts: every line of /proc/self/mountinfo as target → type, the
// per-mount options (what mount(2) flags set), the filesystem's own
// options (what the filesystem was created with) and, when only part of
// the filesystem is mounted, which part.
func mounts(o *out) {
	ms, err := mountinfo.Read("self")
	if err != nil {
		o.put("mount", errName(err))
		return
	}
	for _, m := range ms {
		v := m.FSType + " " + m.Opts + " " + m.Super
		// Root is the folder of the filesystem that is mounted: "/" for
		// a whole filesystem, the source path for a bind mount (the
		// container's own group for a cgroup hierarchy).
		if m.Root != "/" {
			v += " root=" + m.Root
		}
		o.put("mount."+m.Point, v)
	}
}

// devices: everything under /dev, with type, mode and major:minor (or
// the link's target).
func devices(o *out) {
	filepath.WalkDir("/dev", func(p string, d os.DirEntry, err error) error {
		if err != nil || p == "/dev" {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			o.put("dev."+p, errName(err))
			return nil
		}
		mode := fmt.Sprintf("%04o", st.Mode&0o7777)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			o.put("dev."+p, fmt.Sprintf("c %d:%d %s", unix.Major(st.Rdev), unix.Minor(st.Rdev), mode))
		case unix.S_IFBLK:
			o.put("dev."+p, fmt.Sprintf("b %d:%d %s", unix.Major(st.Rdev), unix.Minor(st.Rdev), mode))
		case unix.S_IFLNK:
			t, _ := os.Readlink(p)
			o.put("dev."+p, "-> "+t)
		case unix.S_IFDIR:
			o.put("dev."+p, "d "+mode)
		default:
			o.put("dev."+p, "f "+mode)
		}
		return nil
	})
}

// Docker's masked paths (hidden behind /dev/null or an empty read-only
// tmpfs) and read-only paths (bind-mounted read-only onto themselves).
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func hiddenPaths(o *out) {
	for _, p := range maskedPaths {
		o.put("masked."+p, tryPath(p))
	}
	for _, p := range readonlyPaths {
		o.put("readonly."+p, tryPath(p))
	}
}

// tryPath reads a file (empty or not; its bytes change from run to run)
// or lists a folder (empty or not), and asks whether it could be written:
// a file is opened for writing without writing a byte (a read-only mount
// refuses the open with EROFS), a folder gets a test sub-folder, removed
// at once.
func tryPath(p string) string {
	st, err := os.Lstat(p)
	if err != nil {
		return "absent (" + errName(err) + ")"
	}
	if st.IsDir() {
		read := "read=OK"
		ents, err := os.ReadDir(p)
		switch {
		case err != nil:
			read = "read=" + errName(err)
		case len(ents) == 0:
			read = "read=empty"
		}
		if f := firstFile(p, 3); f != "" {
			return "dir " + read + " write(" + strings.TrimPrefix(f, p+"/") + ")=" + openForWrite(f)
		}
		t := filepath.Join(p, ".probe-write-test")
		err = unix.Mkdir(t, 0o700)
		if err == nil {
			unix.Rmdir(t)
		}
		return "dir " + read + " write(mkdir)=" + errName(err)
	}
	read := "read=OK"
	if f, err := os.Open(p); err != nil {
		read = "read=" + errName(err)
	} else {
		buf := make([]byte, 512)
		n, err := f.Read(buf)
		switch {
		case err != nil && err != io.EOF:
			read = "read=" + errName(err)
		case n == 0:
			read = "read=empty"
		}
		f.Close()
	}
	write := openForWrite(p)
	kind := "file"
	if st.Mode()&os.ModeCharDevice != 0 {
		kind = "chardev"
	}
	return kind + " " + read + " write=" + write
}

// openForWrite opens p for writing and closes it without writing a
// byte: a read-only mount already refuses the open (EROFS).
func openForWrite(p string) string {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return errName(err)
	}
	unix.Close(fd)
	return "OK"
}

// firstFile is the first regular file under dir (names in order, at most
// depth folders down), or "".
func firstFile(dir string, depth int) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			return filepath.Join(dir, e.Name())
		}
	}
	if depth > 1 {
		for _, e := range ents {
			if e.IsDir() {
				if f := firstFile(filepath.Join(dir, e.Name()), depth-1); f != "" {
					return f
				}
			}
		}
	}
	return ""
}

// etcFiles: the files a runtime writes for the container.
func etcFiles(o *out) {
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		o.put("etc."+filepath.Base(f), readOr(f))
	}
}

// cgroups: the path in each hierarchy (/proc/self/cgroup) and the limits
// as the container's own /sys/fs/cgroup shows them (v1 or v2).
func cgroups(o *out) {
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			// ID:CONTROLLERS:PATH
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 {
				continue
			}
			name := parts[1]
			if name == "" {
				name = "unified"
			}
			o.put("cgroup.path."+name, parts[2])
		}
	}
	files := []string{
		// cgroup v1
		"memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
		"memory/memory.soft_limit_in_bytes", "memory/memory.swappiness", "memory/memory.oom_control",
		"cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us", "cpu/cpu.shares",
		"cpuset/cpuset.cpus", "pids/pids.max",
		"blkio/blkio.weight",
		// cgroup v2
		"memory.max", "memory.swap.max", "memory.low", "cpu.max", "cpu.weight", "pids.max",
	}
	for _, f := range files {
		b, err := os.ReadFile("/sys/fs/cgroup/" + f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			o.put("cgroup."+f, errName(err))
			continue
		}
		o.put("cgroup."+f, string(bytes.TrimSpace(b)))
	}
}

// rlimitNames are the resource limits by docker run --ulimit's names.
var rlimitNames = []struct {
	name     string
	resource int
}{
	{"as", unix.RLIMIT_AS}, {"core", unix.RLIMIT_CORE}, {"cpu", unix.RLIMIT_CPU}, {"data", unix.RLIMIT_DATA},
	{"fsize", unix.RLIMIT_FSIZE}, {"locks", unix.RLIMIT_LOCKS}, {"memlock", unix.RLIMIT_MEMLOCK},
	{"msgqueue", unix.RLIMIT_MSGQUEUE}, {"nice", unix.RLIMIT_NICE}, {"nofile", unix.RLIMIT_NOFILE},
	{"nproc", unix.RLIMIT_NPROC}, {"rss", unix.RLIMIT_RSS}, {"rtprio", unix.RLIMIT_RTPRIO},
	{"rttime", unix.RLIMIT_RTTIME}, {"sigpending", unix.RLIMIT_SIGPENDING}, {"stack", unix.RLIMIT_STACK},
}

// rlimits: each resource limit as "soft hard" (--ulimit, prlimit).
func rlimits(o *out) {
	num := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for _, r := range rlimitNames {
		var l unix.Rlimit
		if err := unix.Getrlimit(r.resource, &l); err != nil {
			o.put("rlimit."+r.name, errName(err))
			continue
		}
		o.put("rlimit."+r.name, num(l.Cur)+" "+num(l.Max))
	}
}

// network: each link with its flags and MTU, its addresses, and the
// default route.
func network(o *out) {
	ifs, err := net.Interfaces()
	if err != nil {
		o.put("net.links", errName(err))
		return
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
		o.put("net.link."+i.Name, fmt.Sprintf("%s mtu %d", i.Flags, i.MTU))
		if len(i.HardwareAddr) > 0 {
			o.put("net.mac."+i.Name, i.HardwareAddr.String())
		}
		addrs, _ := i.Addrs()
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		o.put("net.addr."+i.Name, strings.Join(s, " "))
	}
	o.put("net.links", strings.Join(names, " "))
	o.put("net.route.default", defaultRoute())
	// Docker (20.10+) sets these two in every container with a network
	// namespace of its own, so ports below 1024 and ping need no
	// capability inside.
	for _, k := range []string{"net/ipv4/ip_unprivileged_port_start", "net/ipv4/ping_group_range"} {
		o.put("sysctl."+strings.ReplaceAll(k, "/", "."), strings.Join(strings.Fields(readOr("/proc/sys/"+k)), " "))
	}
}

// defaultRoute reads /proc/net/route (little-endian hex addresses).
func defaultRoute() string {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return errName(err)
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 2 && f[1] == "00000000" {
			gw, err := strconv.ParseUint(f[2], 16, 32)
			if err != nil {
				continue
			}
			return fmt.Sprintf("via %d.%d.%d.%d dev %s", byte(gw), byte(gw>>8), byte(gw>>16), byte(gw>>24), f[0])
		}
	}
	return "none"
}
