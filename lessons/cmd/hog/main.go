// Command hog uses up one resource, so lesson 03 can watch a cgroup limit
// stop it, whatever the host has installed.
//
//	hog mem 64m        allocate and touch 64 MiB, 4 MiB at a time, then exit
//	hog cpu [SECONDS]  spin on one CPU (forever, or SECONDS)
//	hog fork N         fork N children, report how many the kernel allowed, end them
//	hog count FILE     write an increasing counter into FILE every 10 ms
package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/units"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "mem":
		err = mem(arg(2))
	case "cpu":
		err = cpu(os.Args[2:])
	case "fork":
		err = fork(arg(2))
	case "count":
		err = count(arg(2))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hog: error: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: hog mem SIZE | hog cpu [SECONDS [LIMIT%]] | hog fork N | hog count FILE")
	os.Exit(2)
}

func arg(i int) string {
	if len(os.Args) <= i {
		usage()
	}
	return os.Args[i]
}

// mem allocates size bytes and writes to every page, so the memory is
// really used (charged to the cgroup), not just reserved. It reports each
// 4 MiB, so the last line printed shows where the OOM killer struck.
func mem(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	const step = 4 << 20
	var keep [][]byte
	for done := int64(0); done < n; {
		chunk := int64(step)
		if n-done < chunk {
			chunk = n - done
		}
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
		done += chunk
		fmt.Printf("hog: %d MiB\n", done>>20)
	}
	fmt.Printf("hog: allocated %s\n", s)
	_ = keep
	return nil
}

// parseSize reads a size as docker run -m does ("64m", units.RAMInBytes).
func parseSize(s string) (int64, error) {
	v, err := units.RAMInBytes(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (like 64m)", s)
	}
	return v, nil
}

// cpu burns one CPU in a loop that never sleeps. Given SECONDS, it stops
// then and says how much CPU time the kernel charged it while it spun,
// rounded to 5 %, so a limit shows: under --cpus 0.2 it gets about 20 %
// of the time it ran. The charge is its cgroup's counter, the one the
// CFS bandwidth limit is checked against (cpu.stat usage_usec on v2,
// cpuacct.usage on v1), read before and after the spin; outside such a
// group, its own CPU time over the spin (getrusage). Not the CPU time
// since the process began: that includes what cgroupctl exec spent
// before it joined the group and became hog (under emulation, a second
// and more of unlimited CPU, which read as 45 % under --cpus 0.2).
// Given LIMIT% too, it also says whether it stayed within that limit: a
// ceiling, so on a busy machine the spinner may get less than the limit
// (other programs want the CPU too), never more than the limit plus the
// kernel's rounding of one period.
func cpu(args []string) error {
	var sec float64
	if len(args) > 0 {
		var err error
		if sec, err = strconv.ParseFloat(args[0], 64); err != nil || sec <= 0 {
			return fmt.Errorf("bad SECONDS %q", args[0])
		}
	}
	limit := -1
	if len(args) > 1 {
		var err error
		if limit, err = strconv.Atoi(strings.TrimSuffix(args[1], "%")); err != nil || limit <= 0 || limit > 100 {
			return fmt.Errorf("bad LIMIT %q (a percentage of one CPU, like 20%%)", args[1])
		}
	}
	charged := cpuCharge()
	used0 := charged()
	start := time.Now()
	until := start.Add(time.Duration(sec * float64(time.Second)))
	x := 0
	for i := 0; ; i++ {
		x += i
		if i%1000000 == 0 && sec > 0 && time.Now().After(until) {
			break
		}
	}
	wall := time.Since(start).Seconds()
	used := (charged() - used0).Seconds()
	pct := int(math.Round(used/wall*100/5) * 5)
	fmt.Printf("hog: spun for %.1f s and got %.2f s of CPU: about %d%% of one CPU\n", wall, used, pct)
	if limit > 0 {
		// 3 points of slack: the quota is enforced per period, and the
		// last period of the run may be only partly charged.
		if used/wall*100 <= float64(limit)+3 {
			fmt.Printf("hog: within the limit of %d%% of one CPU\n", limit)
		} else {
			fmt.Printf("hog: ABOVE the limit of %d%% of one CPU\n", limit)
		}
	}
	return nil
}

// cpuCharge returns what reads the CPU time charged to this process: its
// cgroup's usage counter when the group holds this process alone
// (cpuacct.usage in the v1 hierarchy that has cpuacct, else cpu.stat's
// usage_usec in the cgroup2 tree), else its own user and system time.
func cpuCharge() func() time.Duration {
	if h, err := cgroup.Detect(); err == nil {
		for _, x := range h.Hierarchies {
			if slices.Contains(x.Subsystems, "cpuacct") {
				rel, _ := strings.CutPrefix(h.SelfPath(x), x.Root)
				if f := filepath.Join(x.Point, rel); aloneIn(f) {
					return counter(filepath.Join(f, "cpuacct.usage"), "", time.Nanosecond)
				}
			}
		}
		if self, ok := h.Self[""]; ok && h.V2Root != "" && aloneIn(filepath.Join(h.V2Root, self)) {
			return counter(filepath.Join(h.V2Root, self, "cpu.stat"), "usage_usec", time.Microsecond)
		}
	}
	return func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
}

// aloneIn reports whether the group dir holds this process and no other.
func aloneIn(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	return err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid())
}

// counter returns a reader of the number in file (the line "key N" when
// key is not ""), counted in unit.
func counter(file, key string, unit time.Duration) func() time.Duration {
	return func() time.Duration {
		n, _ := readCounter(file, key)
		return time.Duration(n) * unit
	}
}

// readCounter reads a number from file: the whole file when key is "",
// else the value of the line "key N".
func readCounter(file, key string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(b))
	if key != "" {
		text = ""
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, key+" "); ok {
				text = v
			}
		}
	}
	return strconv.ParseInt(strings.TrimSpace(text), 10, 64)
}

// fork makes up to n children the way a fork bomb does, with fork(2)
// itself (clone with only SIGCHLD): each child is one task that waits in
// ppoll(2). When the pids limit refuses a fork (EAGAIN), it stops, ends
// its children, and reports how many tasks the group held at the peak:
// its own threads (the Go runtime's) plus its children.
func fork(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("bad N %q", s)
	}
	var kids []int
	var forkErr error
	for len(kids) < n {
		pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		if errno != 0 {
			forkErr = errno
			break
		}
		if pid == 0 {
			// The child: a copy of one thread of the Go program. It must
			// not touch the runtime, only wait to be killed.
			for {
				unix.RawSyscall6(unix.SYS_PPOLL, 0, 0, 0, 0, 0, 0)
			}
		}
		kids = append(kids, int(pid))
	}
	threads := ownThreads()
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
	}
	for _, k := range kids {
		var ws syscall.WaitStatus
		syscall.Wait4(k, &ws, 0, nil)
	}
	if forkErr != nil {
		fmt.Printf("hog: forked %d of %d children, then fork failed: %v\n", len(kids), n, forkErr)
		fmt.Printf("hog: tasks at the peak: %d children + %d threads of hog = %d\n", len(kids), threads, len(kids)+threads)
		os.Exit(1)
	}
	fmt.Printf("hog: forked %d of %d children\n", len(kids), n)
	return nil
}

func ownThreads() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// count writes 1, 2, 3, ... into file, one number every 10 ms, so a
// reader can tell whether it is running.
func count(file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		// Padded with spaces, so each write covers the last one: `read n < FILE` trims them.
		if _, err := f.WriteAt([]byte(fmt.Sprintf("%-20d\n", i)), 0); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
