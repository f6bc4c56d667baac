package launch

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// BatchThreads gives every thread of this process Linux's SCHED_BATCH
// policy (sched(7)), its nice value kept: a thread that wakes up no
// longer preempts the one running on its CPU. A start is mini-docker's
// main thread making a few hundred system calls while Go's own threads
// (sysmon, which wakes every 20-80 µs while system calls run, and the
// threads that take a goroutine over) wake up around it; as SCHED_OTHER
// they preempt it on its CPU, one context switch each, while the other
// CPU may sit idle. Threads made later inherit the policy from the one
// that makes them. The container's processes do not: startUnlessBusy
// clones them from a thread set back to SCHED_OTHER. Best effort: a
// thread that refuses keeps its policy.
func BatchThreads() {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			setPolicy(tid, unix.SCHED_BATCH)
		}
	}
}

// normalThread gives the calling thread, which the caller has locked,
// the default policy back (SCHED_OTHER), its nice value kept: a process
// it starts inherits it, as under any other engine.
func normalThread() {
	setPolicy(unix.Gettid(), unix.SCHED_NORMAL)
}

func setPolicy(tid int, policy uint32) {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil || attr.Policy == policy || (attr.Policy != unix.SCHED_NORMAL && attr.Policy != unix.SCHED_BATCH) {
		return // real-time or idle policies are the user's choice: kept
	}
	attr.Policy = policy
	unix.SchedSetAttr(tid, attr, 0)
}
