package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The reference runtime gets the container Docker would ask it for: the
// OCI runtime config dockerd generates for
// `docker run --rm --network none debian true` (Docker 20.10 on a cgroup
// v1 host), over the same root filesystem mini-docker mounts.

// dockerCaps are Docker's default capabilities (CapEff 00000000a80425fb).
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

var dockerMasked = []string{
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
}

var dockerReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// runcCgroupParent is the parent group runc's containers go in (as
// Docker's go in /docker), removed at the end.
const runcCgroupParent = "mini-docker-bench-runc"

// makeBundle writes config.json for runc, with the seccomp profile as
// seccompctl resolves it (the same JSON dockerd hands runc).
func (e *Env) makeBundle() error {
	e.Bundle = filepath.Join(e.Tmp, "bundle")
	e.RuncRoot = filepath.Join(e.Tmp, "runc-state")
	if err := os.MkdirAll(e.Bundle, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(filepath.Join(e.Opt.Bin, "seccompctl"), "dump", "--oci", "default").Output()
	if err != nil {
		return fmt.Errorf("seccompctl dump --oci default: %w", err)
	}
	var seccomp any
	if err := json.Unmarshal(out, &seccomp); err != nil {
		return fmt.Errorf("seccompctl dump --oci: %w", err)
	}
	const hostname = "0123456789ab"
	files := map[string]string{
		"hostname":    hostname + "\n",
		"hosts":       "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"resolv.conf": "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
	}
	var etcMounts []any
	for name, content := range files {
		p := filepath.Join(e.Bundle, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
		etcMounts = append(etcMounts, map[string]any{"destination": "/etc/" + name, "type": "bind",
			"source": p, "options": []string{"rbind", "rprivate"}})
	}
	cfg := runcConfig(e.Rootfs, hostname, etcMounts, seccomp)
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.Bundle, "config.json"), b, 0o644); err != nil {
		return err
	}
	e.onClose(func() {
		ctrls, _ := filepath.Glob("/sys/fs/cgroup/*/" + runcCgroupParent)
		more, _ := filepath.Glob("/sys/fs/cgroup/*/*/" + runcCgroupParent) // cpu,cpuacct style links
		for _, d := range append(ctrls, more...) {
			os.Remove(filepath.Join(d, "bench"))
			os.Remove(d)
		}
	})
	// One run now, so a broken bundle fails here with runc's message.
	if out, err := exec.Command("runc", e.RuncArgs()...).CombinedOutput(); err != nil {
		return fmt.Errorf("runc run of the bundle: %v\n%s", err, out)
	}
	return nil
}

// runcConfig is the config.json Docker would hand runc for `docker run
// --network none IMAGE true`: Docker's mounts, devices, capabilities,
// masked paths and seccomp profile, the /etc files bound from the
// bundle.
func runcConfig(rootfs, hostname string, etcMounts []any, seccomp any) map[string]any {
	dev := func(typ string, major, minor int64) map[string]any {
		d := map[string]any{"allow": true, "type": typ, "major": major, "minor": minor, "access": "rwm"}
		if minor < 0 {
			delete(d, "minor")
		}
		return d
	}
	mounts := []any{
		map[string]any{"destination": "/proc", "type": "proc", "source": "proc", "options": []string{"nosuid", "noexec", "nodev"}},
		map[string]any{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		map[string]any{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		map[string]any{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": []string{"nosuid", "noexec", "nodev", "ro"}},
		map[string]any{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": []string{"ro", "nosuid", "noexec", "nodev"}},
		map[string]any{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": []string{"nosuid", "noexec", "nodev"}},
		map[string]any{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
	}
	mounts = append(mounts, etcMounts...)
	return map[string]any{
		"ociVersion": "1.0.2-dev",
		"process": map[string]any{
			"terminal": false,
			"user":     map[string]any{"uid": 0, "gid": 0},
			"args":     []string{"true"},
			"env":      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + hostname},
			"cwd":      "/",
			"capabilities": map[string]any{
				"bounding": dockerCaps, "effective": dockerCaps, "permitted": dockerCaps,
			},
			"oomScoreAdj": 0,
		},
		"root":     map[string]any{"path": rootfs},
		"hostname": hostname,
		"mounts":   mounts,
		"linux": map[string]any{
			"cgroupsPath": "/" + runcCgroupParent + "/bench",
			"resources": map[string]any{
				"devices": []any{
					map[string]any{"allow": false, "access": "rwm"},
					map[string]any{"allow": true, "type": "c", "access": "m"},
					map[string]any{"allow": true, "type": "b", "access": "m"},
					dev("c", 1, 3), dev("c", 1, 8), dev("c", 1, 7), dev("c", 5, 0),
					dev("c", 1, 5), dev("c", 1, 9), dev("c", 136, -1), dev("c", 5, 2), dev("c", 10, 200),
				},
			},
			"namespaces": []any{
				map[string]any{"type": "mount"}, map[string]any{"type": "network"},
				map[string]any{"type": "uts"}, map[string]any{"type": "pid"}, map[string]any{"type": "ipc"},
			},
			"seccomp":       seccomp,
			"maskedPaths":   dockerMasked,
			"readonlyPaths": dockerReadonly,
		},
	}
}

// RuncArgs is the runc command line of one container start.
func (e *Env) RuncArgs() []string {
	return []string{"--root", e.RuncRoot, "run", "--bundle", e.Bundle, "mdb-runc"}
}
