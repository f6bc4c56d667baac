package system

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	mobysystem "github.com/moby/moby/api/types/system"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/engine"
	"mini-docker/pull/store"
)

// hostCheck is one thing info looks at.
type hostCheck struct {
	name string
	ok   bool
	info string
}

var infoSpec = command.Spec{
	Name: "info", Usage: "[--format TEMPLATE]",
	Summary:  "Show what this host supports (kernel, cgroups, overlay, seccomp, user namespaces) and what mini-docker holds.",
	Examples: []string{"mini-docker info", "mini-docker info --format '{{.CgroupVersion}} {{.KernelVersion}}'", "mini-docker info --format json"},
}

// Info is `mini-docker info`: the host's kernel and what it supports,
// and what mini-docker holds; --format picks fields of Docker's Info.
func Info(root string, args []string) error {
	f := infoSpec.Flags()
	format := f.String("format", "", "format the output using a Go template, or json")
	e, err := infoSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	info := collect(root, e)
	if *format != "" {
		return formatInfo(*format, info)
	}
	fmt.Printf("Client:\n Version:    %s\n Go version: %s\n\n", cli.Version, runtime.Version())
	fmt.Printf("Server:\n")
	fmt.Printf(" Containers: %d\n  Running: %d\n  Paused: %d\n  Stopped: %d\n", info.Containers, info.ContainersRunning, info.ContainersPaused, info.ContainersStopped)
	fmt.Printf(" Images: %d\n", info.Images)
	fmt.Printf(" Storage Driver: overlay2\n")
	cgMode, cgInfo := cgroupMode()
	fmt.Printf(" Cgroup Driver: cgroupfs\n Cgroup Version: %s\n", cgMode)
	fmt.Printf(" Kernel Version: %s\n", info.KernelVersion)
	fmt.Printf(" Operating System: %s\n", info.OperatingSystem)
	fmt.Printf(" Architecture: %s\n CPUs: %d\n", runtime.GOARCH, info.NCPU)
	fmt.Printf(" Root Dir: %s\n Tools Dir: %s\n", root, e.Tools.Dir)
	printChecks(e, cgMode, cgInfo)
	return nil
}

// dockerInfo is what info's --format sees: Docker's Info, and the
// client's part (named as the docker CLI's, so errors read the same).
type dockerInfo struct {
	*mobysystem.Info
	ClientInfo   clientInfo
	ServerErrors []string `json:",omitempty"`
}

type clientInfo struct {
	Debug     bool
	Version   string
	GoVersion string
	Os        string
	Arch      string
	Context   string
	Plugins   []string
	Warnings  []string
}

// formatInfo prints info through a template, or as JSON.
func formatInfo(format string, info *mobysystem.Info) error {
	tmpl, err := command.Template("", format)
	if err != nil {
		return err
	}
	v := dockerInfo{Info: info, ClientInfo: clientInfo{Version: cli.Version, GoVersion: runtime.Version(),
		Os: runtime.GOOS, Arch: runtime.GOARCH, Context: "default", Plugins: []string{}}}
	return command.Execute(tmpl, v, "")
}

// collect fills Docker's Info with what this host and root hold.
func collect(root string, e *engine.Engine) *mobysystem.Info {
	info := &mobysystem.Info{Driver: "overlay2", DockerRootDir: root, OSType: runtime.GOOS,
		CgroupDriver: "cgroupfs", LoggingDriver: "json-file", ServerVersion: cli.Version,
		NCPU: runtime.NumCPU(), OperatingSystem: osRelease(), DefaultRuntime: "mini-docker-inside",
		SecurityOptions: []string{"name=seccomp,profile=builtin"}}
	cs, _ := e.List()
	for _, ct := range cs {
		switch {
		case ct.State.Paused:
			info.ContainersPaused++
		case ct.State.Running:
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	info.Containers = len(cs)
	if s, err := store.Open(root); err == nil {
		if l, err := s.List(); err == nil {
			info.Images = len(l)
		}
	}
	var u unix.Utsname
	unix.Uname(&u)
	info.KernelVersion = unix.ByteSliceToString(u.Release[:])
	info.Architecture = unix.ByteSliceToString(u.Machine[:])
	info.Name = unix.ByteSliceToString(u.Nodename[:])
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		info.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	mode, _ := cgroupMode()
	info.CgroupVersion = strings.Fields(mode)[0]
	info.MemoryLimit, info.PidsLimit, info.CPUShares, info.CPUSet = true, true, true, true
	return info
}

// printChecks prints info's host checks, one ✓ or ✗ each.
func printChecks(e *engine.Engine, cgMode, cgInfo string) {
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
