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
// kernel keeps of the group's run time (cpu.stat usage_usec on v2,
// cpuacct.usage on v1), read before and after the spin; outside a group
// of its own, its own CPU time over the spin (getrusage). Not the CPU
// time since the process began: that includes what cgroupctl exec spent
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
	c := newCharge()
	used0 := c.used()
	start := time.Now()
	spin(c, start.Add(time.Duration(sec*float64(time.Second))), sec > 0)
	wall := time.Since(start).Seconds()
	used := (c.used() - used0).Seconds()
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

// spin burns the CPU until the time until (forever when stop is false).
// When the group was throttled meanwhile, it goes on past until to the
// moment it runs again after a throttled period (a second more at most):
// the kernel lets a throttled group run again only once its run time is
// paid for, so the count read then holds no run time the quota has not
// yet made up for. That happens in a VM whose kernel cannot see the time
// its virtual CPU was taken away (no steal clock, as under QEMU's TCG):
// that time is charged as run time, and repaid by throttling the next
// periods. Stopping anywhere else could count a debt not yet repaid.
func spin(c charge, until time.Time, stop bool) {
	throttles := c.throttled()
	seen := false
	last := time.Now()
	x := 0
	for i := 0; ; i++ {
		x += i
		if i%1000000 != 0 || !stop {
			continue
		}
		now := time.Now()
		resumed := false
		if now.Sub(last) > 5*time.Millisecond { // off the CPU since the last look
			if n := c.throttled(); n > throttles {
				throttles, resumed, seen = n, true, true
			}
		}
		last = now
		if now.After(until) && (!seen || resumed || now.After(until.Add(time.Second))) {
			return
		}
	}
}

// charge reads what the kernel counts of this process's CPU time.
type charge struct {
	used      func() time.Duration // CPU time charged
	throttled func() int64         // periods its group was throttled in
}

// newCharge returns the counters of this process's cgroup when the group
// holds this process alone: cpuacct.usage and the cpu hierarchy's
// cpu.stat (nr_throttled) on v1, cpu.stat (usage_usec, nr_throttled) in
// the cgroup2 tree; else its own user and system time, and no throttling.
func newCharge() charge {
	c := charge{
		used: func() time.Duration {
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		},
		throttled: func() int64 { return 0 },
	}
	h, err := cgroup.Detect()
	if err != nil {
		return c
	}
	acct, cpu := groupDir(h, "cpuacct"), groupDir(h, "cpu")
	switch {
	case acct != "" && aloneIn(acct):
		c.used = counter(filepath.Join(acct, "cpuacct.usage"), "", time.Nanosecond)
	case acct == "" && cpu != "" && aloneIn(cpu):
		c.used = counter(filepath.Join(cpu, "cpu.stat"), "usage_usec", time.Microsecond)
	default:
		return c
	}
	if cpu != "" {
		f := filepath.Join(cpu, "cpu.stat")
		c.throttled = func() int64 { n, _ := readCounter(f, "nr_throttled"); return n }
	}
	return c
}

// groupDir is this process's group in the v1 hierarchy that has
// controller, or in the cgroup2 tree when no v1 hierarchy has it ("" when
// neither does).
func groupDir(h *cgroup.Host, controller string) string {
	for _, x := range h.Hierarchies {
		if slices.Contains(x.Subsystems, controller) {
			rel, _ := strings.CutPrefix(h.SelfPath(x), x.Root)
			return filepath.Join(x.Point, rel)
		}
	}
	if self, ok := h.Self[""]; ok && h.V2Root != "" && len(h.V1) == 0 {
		return filepath.Join(h.V2Root, self)
	}
	return ""
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
