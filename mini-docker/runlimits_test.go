package main

// Run flags of issue 18, item 6, that end in a primitive: the cgroup's
// soft limit and OOM switch (cgroupctl), /dev/shm's size (chroot).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/mini-docker/spec"
)

// TestResourceRunFlags: --memory-reservation is the group's soft limit
// (v1 memory.soft_limit_in_bytes, v2 memory.low), --oom-kill-disable
// v1's memory.oom_control (on v2 dropped with Docker's warning), and
// --shm-size the size of the container's /dev/shm, both in the default
// run (mini-docker-inside) and in the chain of tools (--tool-chain).
// Bad values are refused in Docker's words with exit 125 and nothing
// made.
func TestResourceRunFlags(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	v2 := spec.CgroupV2()
	for _, mode := range [][]string{nil, {"--tool-chain"}} {
		name := "res" + strings.Join(mode, "")
		args := append([]string{"run", "-d", "--name", name, "--network", "none", "-m", "64m",
			"--memory-reservation", "20m", "--oom-kill-disable", "--shm-size", "1m"}, mode...)
		_, errOut, code := h.md(append(args, ref, "sleep", "300")...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		if v2 != strings.Contains(errOut, "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.") {
			t.Errorf("%v on cgroup v2 %v: stderr %q", mode, v2, errOut)
		}
		pid := strings.TrimSpace(h.must("inspect", "--format", "{{.State.Pid}}", name))
		dirs, _ := cgroupDirs(t, pid)
		if v2 {
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.low")); got != "20971520" {
				t.Errorf("%v: memory.low = %q, want 20971520", mode, got)
			}
		} else {
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.soft_limit_in_bytes")); got != "20971520" {
				t.Errorf("%v: memory.soft_limit_in_bytes = %q, want 20971520", mode, got)
			}
			if got := readTrim(t, filepath.Join(dirs["memory"], "memory.oom_control")); !strings.HasPrefix(got, "oom_kill_disable 1\n") {
				t.Errorf("%v: memory.oom_control = %q, want oom_kill_disable 1", mode, got)
			}
		}
		// busybox df: the tmpfs's size in 1K blocks.
		df := h.must("exec", name, "df", "-k", "/dev/shm")
		if f := strings.Fields(df); len(f) < 9 || f[7] != "shm" || f[8] != "1024" {
			t.Errorf("%v: df /dev/shm = %q, want shm of 1024 blocks", mode, df)
		}
		h.must("rm", "-f", name)
	}
	h.refusesRun(ref, []refusal{
		{[]string{"--memory-reservation", "1m"}, 125, "Minimum memory reservation allowed is 6MB"},
		{[]string{"--memory-reservation", "20m", "-m", "10m"}, 125, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{[]string{"--memory-reservation", "x"}, 125, `invalid argument "x" for "--memory-reservation" flag: invalid size: 'x'`},
		{[]string{"--shm-size", "x"}, 125, `invalid argument "x" for "--shm-size" flag: invalid size: 'x'`},
	})
	h.assertNoLeaks()
}

// TestUlimit: --ulimit sets the command's resource limits (soft, hard;
// -1 unlimited), as Docker's container shows them in `ulimit`, in the
// default run and in the chain of tools, where --explain prints it as
// util-linux's prlimit; bad values are refused in Docker's CLI's words
// (exit 125, nothing made).
func TestUlimit(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	const want = "100\n200\n50\n100\nunlimited\n"
	for _, mode := range [][]string{nil, {"--tool-chain", "--explain"}} {
		args := append([]string{"run", "--rm", "--network", "none", "--ulimit", "nofile=100:200", "--ulimit", "nproc=50:100", "--ulimit", "core=-1"}, mode...)
		out, errOut, code := h.md(append(args, ref, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c")...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d, ulimit printed %q, want %q\n%s", mode, code, out, want, errOut)
		}
		if mode != nil && !strings.Contains(errOut, " --nofile=100:200 --nproc=50:100 --core=unlimited:unlimited -- ") {
			t.Errorf("--explain does not show prlimit's options:\n%s", errOut)
		}
	}
	h.refusesRun(ref, []refusal{
		{[]string{"--ulimit", "nofile=x"}, 125, `invalid argument "nofile=x" for "--ulimit" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"--ulimit", "nofil=1"}, 125, `invalid argument "nofil=1" for "--ulimit" flag: invalid ulimit type: nofil`},
		{[]string{"--ulimit", "nofile=3:2"}, 125, `invalid argument "nofile=3:2" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 3 > 2`},
		{[]string{"--ulimit", "nofile"}, 125, `invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile`},
		{[]string{"--ulimit", "nofile=1:2:3"}, 125, "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"},
	})
	h.assertNoLeaks()
}

// TestDevice: --device HOST:CONTAINER:PERMISSIONS makes the host's node
// in the container's /dev (chroot --device, in both run paths) with the
// host's type, number and mode, and allows it with those permissions
// only (/dev/fuse read: opened; written: refused), where a node the
// container makes itself stays closed to it: the v1 devices controller,
// or on v2 the eBPF device program cgroupctl attaches. A missing host node is refused in Docker's words
// with Docker's 127; bad specs with 125.
func TestDevice(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse on this host:", err)
	}
	const script = `ls -ln /dev/myfuse | cut -c1-10; stat -c '%t:%T' /dev/myfuse
dd if=/dev/myfuse of=/dev/null bs=1 count=0 2>/dev/null && echo read-ok
(echo x > /dev/myfuse) 2>/dev/null || echo write-refused
mknod /dev/own c 10 237 && (dd if=/dev/own of=/dev/null bs=1 count=0 2>/dev/null || echo own-refused)`
	for _, mode := range [][]string{nil, {"--tool-chain"}} {
		args := append([]string{"run", "--rm", "--network", "none", "--device", "/dev/fuse:/dev/myfuse:r"}, mode...)
		out, errOut, code := h.md(append(args, ref, "sh", "-c", script)...)
		want := "crw-------\na:e5\nread-ok\nwrite-refused\nown-refused\n"
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Errorf("%v: exit %d %q, want %q\n%s", mode, code, out, want, errOut)
		}
	}
	h.refusesRun(ref, []refusal{
		{[]string{"--device", "/dev/nope"}, 127, `error gathering device information while adding custom device "/dev/nope": no such file or directory`},
		{[]string{"--device", "/etc/passwd"}, 125, `error gathering device information while adding custom device "/etc/passwd": not a device node`},
		{[]string{"--device", "/dev/fuse:/dev/x:zz"}, 125, "bad mode specified: zz"},
		{[]string{"--device", "/dev/fuse:rel"}, 125, "rel is not an absolute path"},
	})
	h.assertNoLeaks()
}

// refusal is a run flag docker run refuses: its exit code and words.
type refusal struct {
	args []string
	code int
	msg  string
}

// refusesRun runs `run --rm --network none ARGS ref true` for each
// refusal, wants its code and words, and nothing left behind.
func (h *harness) refusesRun(ref string, rs []refusal) {
	h.t.Helper()
	before := h.snap()
	for _, r := range rs {
		_, errOut, code := h.md(append(append([]string{"run", "--rm", "--network", "none"}, r.args...), ref, "true")...)
		if code != r.code || !strings.Contains(errOut, r.msg) {
			h.t.Errorf("%v: exit %d %q, want %d and %q", r.args, code, errOut, r.code, r.msg)
		}
	}
	if l := h.leftSince(before); len(l) > 0 {
		h.t.Errorf("bad input left behind %v", l)
	}
}
