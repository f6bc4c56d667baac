// Package rlimit is docker run --ulimit as the kernel takes it: the
// process's resource limits (getrlimit(2)), each a soft limit the
// process may raise up to a hard one, inherited across fork and exec.
// util-linux's prlimit sets them in the chain of tools
// (`prlimit --nofile=1024:2048 -- NEXT`); mini-docker-inside and the OCI
// runtime call Set, the same setrlimit(2). Lesson 09
// (lessons/09-mini-docker.md) teaches the chain.
package rlimit

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Types are the resources of process.rlimits (RLIMIT_ and Docker's
// --ulimit name in capitals), by their numbers.
var Types = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// Set is setrlimit(2) for each limit, in order, through
// syscall.Setrlimit (x/sys's is the same call): Go raises its own soft
// RLIMIT_NOFILE at start and puts the old one back before every exec,
// unless syscall.Setrlimit was told of a new one; a raw prlimit64(2)
// here would be undone for the command.
func Set(rl []specs.POSIXRlimit) error {
	for _, l := range rl {
		t, ok := Types[l.Type]
		if !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", l.Type)
		}
		if err := syscall.Setrlimit(t, &syscall.Rlimit{Cur: l.Soft, Max: l.Hard}); err != nil {
			return fmt.Errorf("setrlimit %s %s: %w", l.Type, value(l), err)
		}
	}
	return nil
}

// PrlimitFlags are util-linux prlimit's options that set rl:
// --nofile=SOFT:HARD, "unlimited" for RLIM_INFINITY.
func PrlimitFlags(rl []specs.POSIXRlimit) []string {
	var f []string
	for _, l := range rl {
		f = append(f, "--"+strings.ToLower(strings.TrimPrefix(l.Type, "RLIMIT_"))+"="+value(l))
	}
	return f
}

// value is SOFT:HARD as prlimit reads it.
func value(l specs.POSIXRlimit) string {
	n := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	return n(l.Soft) + ":" + n(l.Hard)
}
