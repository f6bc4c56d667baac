// Package lessoncheck checks the workshop's exercises
// (lessons/exercises/NN-*.md) against the real state of the system: the
// kernel objects, files and processes the learner left. `mini-docker
// lesson check 03.2` prints one line per condition, ✓ or ✗, with the next
// hint after the first ✗.
//
// A check only looks: it reads files under /proc, /sys and the scratch
// folder, asks netlink, and enters namespaces with setns(2) on a thread
// of its own that is thrown away afterwards. It never writes, mounts,
// creates or removes anything, so a learner can run it as often as they
// like; `make lessons` compares the mount table, cgroups, links and files
// before and after every check to hold it to that.
//
// It belongs to every lesson from 01 to 15: one table (exercises) lists
// every exercise, each lessonNN.go file holds that lesson's checks, built
// from package probe's readers, and package exercise runs and prints them.
package lessoncheck

import "mini-docker/internal/lessoncheck/exercise"

// The exercise's frame, by the names the lessonNN.go files use.
type (
	Exercise = exercise.Exercise
	Check    = exercise.Check
	State    = exercise.State
)

func init() { exercise.Register(exercises...) }

// exercises are the workshop's, lesson by lesson, as in
// lessons/exercises/NN-*.md; each lessonNN.go file holds that lesson's
// checks.
var exercises = []*Exercise{
	// Lesson 01: the filesystem jail. Your own escape from a plain chroot,
	// then pivot_root, which leaves nothing above / to climb to.
	{ID: "01.1", Title: "Escape a plain chroot with your own program", Checks: checks0101},
	{ID: "01.2", Title: "Show that pivot_root stops it", Checks: checks0102},

	// Lesson 02: namespaces, made with util-linux alone.
	{ID: "02.1", Title: "A host name and a PID 1 of its own, with util-linux only", Checks: checks0201},
	{ID: "02.2", Title: "A namespace that outlives its processes", Checks: checks0202},

	// Lesson 03: cgroups by hand, with mkdir and echo. The groups are made
	// right under the root of the controller's tree: /sys/fs/cgroup on v2,
	// /sys/fs/cgroup/CONTROLLER on v1 and hybrid hosts.
	{ID: "03.1", Title: "A memory limit, by hand, and the OOM kill it causes", Checks: checks0301},
	{ID: "03.2", Title: "Cap a fork bomb at 50 tasks", Checks: checks0302},
	{ID: "03.3", Title: "Freeze a process without a signal", Checks: checks0303},

	// Lesson 04: OverlayFS, its whiteouts and opaque directories made by
	// hand, the way a container runtime unpacks an image's layers.
	{ID: "04.1", Title: "Hide a lower file with a whiteout you make by hand", Checks: checks0401},
	{ID: "04.2", Title: "Replace a lower directory with an opaque one", Checks: checks0402},

	// Lesson 05: network namespaces joined by veth pairs and a bridge, built
	// with ip alone, inside the lesson's own network namespace (never the
	// host's: `sudo make shell LESSON=05` gives one).
	{ID: "05.1", Title: "Two namespaces, one cable", Checks: checks0501},
	{ID: "05.2", Title: "Two namespaces through a bridge", Checks: checks0502},

	// Lesson 06: capabilities, one at a time.
	{ID: "06.1", Title: "Bind port 80 as a non-root user with one capability", Checks: checks0601},
	{ID: "06.2", Title: "Root without CAP_CHOWN", Checks: checks0602},

	// Lesson 07: seccomp profiles, checked with seccompctl's own compiler
	// and BPF interpreter (the same instructions the kernel would run).
	{ID: "07.1", Title: "A profile that forbids mkdir, and the proof", Checks: checks0701},
	{ID: "07.2", Title: "Lock a process in: a filter, no_new_privs, not root", Checks: checks0702},

	// Lesson 08: an image pulled by hand, with curl, sha256sum and tar, then
	// run from the folder it was unpacked into.
	{ID: "08.1", Title: "Pull an image by hand with curl and tar", Checks: checks0801},
	{ID: "08.2", Title: "Run what you pulled", Checks: checks0802},

	// Lesson 09: the whole chain, by hand and with mini-docker run, checked
	// from the outside as the kernel sees the container's process.
	{ID: "09.1", Title: "Run the printed chain yourself", Checks: checks0901},
	{ID: "09.2", Title: "The same with mini-docker run, and limits you can see", Checks: checks0902},

	// Lesson 10: the same container under Docker and under mini-docker,
	// compared from the outside, in the kernel's own files.
	{ID: "10.1", Title: "One memory limit, two runtimes", Checks: checks1001},
	{ID: "10.2", Title: "Read-only and no capabilities, in both", Checks: checks1002},

	// Lesson 11: an image made with tar, gzip, sha256sum and printf, no
	// Dockerfile, checked blob by blob the way a runtime reads it.
	{ID: "11.1", Title: "Build an image without a Dockerfile", Checks: checks1101},
	{ID: "11.2", Title: "Load it and run it", Checks: checks1102},

	// Lesson 12: a user-defined network, names on it, and the NAT rule that
	// takes its containers out, checked in mini-docker's records and in the
	// kernel (the container's address, the bridge, the rule set).
	{ID: "12.1", Title: "A network of your own", Checks: checks1201},
	{ID: "12.2", Title: "By name, and out", Checks: checks1202},

	// Lesson 13: data beside the overlay, checked where it lives: a volume's
	// folder under the state root, and the mounts in the container's own
	// table (/proc/PID/mountinfo) that show it bound, read-only, or a tmpfs.
	{ID: "13.1", Title: "A volume that outlives its container", Checks: checks1301},
	{ID: "13.2", Title: "Memory in, files out", Checks: checks1302},

	// Lesson 14: the Engine API, checked from the kernel's side: the socket
	// the server listens on (/proc/net/unix and the process holding it), and
	// the containers its clients asked for, in mini-docker's record and in
	// the container's process.
	{ID: "14.1", Title: "A container made with curl", Checks: checks1401},
	{ID: "14.2", Title: "The docker CLI, pointed at mini-docker", Checks: checks1402},

	// Lesson 15: an OCI bundle and the runtime that runs it, checked in the
	// bundle's config.json, in the runtime's own state (ROOT/ID/state.json,
	// what `runtime state` prints) and in the kernel's view of the
	// container's first process.
	{ID: "15.1", Title: "A bundle of your own", Checks: checks1501},
	{ID: "15.2", Title: "A limit in config.json", Checks: checks1502},
}
