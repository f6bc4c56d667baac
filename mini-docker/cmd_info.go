package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/pull/store"
)

// hostCheck is one thing info looks at.
type hostCheck struct {
	name string
	ok   bool
	info string
}

func cmdInfo(c *ctx, args []string) error {
	f := newFlags("info", "", "Show what this host supports (kernel, cgroups, overlay, seccomp, user namespaces) and what mini-docker holds.", "mini-docker info")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	e, err := openEngine(c, f)
	if err != nil {
		return err
	}
	cs, _ := e.List()
	running, paused, stopped := 0, 0, 0
	for _, ct := range cs {
		switch {
		case ct.State.Paused:
			paused++
		case ct.State.Running:
			running++
		default:
			stopped++
		}
	}
	nimages := 0
	if s, err := store.Open(c.root); err == nil {
		if l, err := s.List(); err == nil {
			nimages = len(l)
		}
	}
	var u unix.Utsname
	unix.Uname(&u)
	kernel := unix.ByteSliceToString(u.Release[:])
	cgMode, cgInfo := cgroupMode()
	fmt.Printf("Client:\n Version:    %s\n Go version: %s\n\n", cli.Version, runtime.Version())
	fmt.Printf("Server:\n")
	fmt.Printf(" Containers: %d\n  Running: %d\n  Paused: %d\n  Stopped: %d\n", len(cs), running, paused, stopped)
	fmt.Printf(" Images: %d\n", nimages)
	fmt.Printf(" Storage Driver: overlay2\n")
	fmt.Printf(" Cgroup Driver: cgroupfs\n Cgroup Version: %s\n", cgMode)
	fmt.Printf(" Kernel Version: %s\n", kernel)
	fmt.Printf(" Operating System: %s\n", osRelease())
	fmt.Printf(" Architecture: %s\n CPUs: %d\n", runtime.GOARCH, runtime.NumCPU())
	fmt.Printf(" Root Dir: %s\n Tools Dir: %s\n", c.root, e.Tools.Dir)
	fmt.Printf("\nHost checks:\n")
	checks := []hostCheck{
		{"root", os.Geteuid() == 0, "containers need root (namespaces, mounts, cgroups)"},
		{"cgroups", cgMode != "none", cgInfo},
		{"overlay", hasFS("overlay"), "overlay filesystem in /proc/filesystems (modprobe overlay if missing)"},
		{"seccomp", hasSeccomp(), "seccomp filters (Seccomp: field in /proc/self/status)"},
		{"user namespaces", userNS(), "/proc/sys/user/max_user_namespaces > 0 (needed for --userns only)"},
		{"pid/net/mnt/uts/ipc namespaces", hasNS(), "/proc/self/ns has pid, net, mnt, uts, ipc"},
	}
	for _, t := range []string{"pull", "overlay", "cgroupctl", "vethctl", "unshare", "chroot", "seccompctl", "capctl"} {
		_, err := e.Tools.Path(t, "run")
		checks = append(checks, hostCheck{"tool " + t, err == nil, e.Tools.Dir + "/" + t})
	}
	for _, ch := range checks {
		mark := "✓"
		if !ch.ok {
			mark = "✗"
		}
		fmt.Printf(" %s %-32s %s\n", mark, ch.name, ch.info)
	}
	return nil
}

func cgroupMode() (string, string) {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2", "cgroup v2 (unified) at /sys/fs/cgroup"
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
			return "1 (hybrid)", "hybrid: v1 controllers under /sys/fs/cgroup/<controller>, v2 at /sys/fs/cgroup/unified"
		}
		return "1", "cgroup v1 controllers under /sys/fs/cgroup/<controller>"
	}
	return "none", "no cgroup filesystem mounted at /sys/fs/cgroup"
}

func hasFS(name string) bool {
	b, _ := os.ReadFile("/proc/filesystems")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(strings.TrimPrefix(l, "nodev")) == name {
			return true
		}
	}
	return false
}

func hasSeccomp() bool {
	b, _ := os.ReadFile("/proc/self/status")
	return strings.Contains(string(b), "\nSeccomp:")
}

func userNS() bool {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	return err == nil && strings.TrimSpace(string(b)) != "0"
}

func hasNS() bool {
	for _, n := range []string{"pid", "net", "mnt", "uts", "ipc"} {
		if _, err := os.Lstat("/proc/self/ns/" + n); err != nil {
			return false
		}
	}
	return true
}

func osRelease() string {
	b, _ := os.ReadFile("/etc/os-release")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown"
}
