// Package dockerspec is the container Docker would ask its runtime for,
// as make bench hands it to runc for its reference rows: the OCI runtime
// config dockerd generates for `docker run --rm --network none debian
// true` (Docker 20.10 on a cgroup v1 host), over the root filesystem
// mini-docker mounts. Lesson 10 shows the numbers it gives.
package dockerspec

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

// Config is the config.json Docker would hand runc for `docker run
// --network none IMAGE true`: Docker's mounts, devices, capabilities,
// masked paths and seccomp profile, the /etc files bound from the
// bundle, in the group cgroupParent/bench.
func Config(cgroupParent, rootfs, hostname string, etcMounts []any, seccomp any) map[string]any {
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
			"cgroupsPath": "/" + cgroupParent + "/bench",
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
