package lessoncheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0101 are exercise 01.1's checks.
func checks0101(s *State) []Check {
	secret, jail, mine, out := s.Path("secret.txt"), s.Path("jail"), s.Path("jail/myescape"), s.Path("escaped.txt")
	return []Check{
		{What: "secret.txt is outside the jail", Cmd: "cat " + secret,
			Hint: `echo "only on the host" > secret.txt`,
			Test: func() error { _, err := nonEmpty(secret); return err }},
		{What: "jail/ holds your own program, jail/myescape", Cmd: "ls -l " + mine,
			Hint: "write the escape in C (mkdir, chroot, chdir(\"..\") in a loop, chroot(\".\"), execv) and build it with gcc -static -o jail/myescape myescape.c",
			Test: func() error { return ownProgram(jail, mine) }},
		{What: "escaped.txt holds what the escaped cat read from secret.txt", Cmd: "diff " + secret + " " + out,
			Hint: "chroot jail /myescape /bin/cat $PWD/secret.txt > escaped.txt (after the escape, /bin/cat is the host's)",
			Test: func() error { return sameContent(secret, out) }},
	}
}

// checks0102 are exercise 01.2's checks.
func checks0102(s *State) []Check {
	jail := s.Path("jail")
	return append(searchChecks("running with "+jail+" as its root, in a mount namespace of its own", []procCheck{
		{What: "a process runs with jail/ as its root, in a mount namespace of its own",
			Cmd:  "for p in /proc/[0-9]*; do [ $p/root -ef " + jail + " ] && echo $p $(readlink $p/ns/mnt); done",
			Hint: "unshare --mount -- sh -c 'mount --bind jail jail && mkdir -p jail/proc && mount -t proc proc jail/proc && cd jail && mkdir -p old && pivot_root . old && umount -l /old && exec sleep 300' & (the jail needs every program the shell runs after the pivot: chroot prepare jail sh sleep umount rmdir)",
			Test: func(p probe.Proc) error {
				if probe.OwnNS(p.PID, "mnt") && probe.SameFile(fmt.Sprintf("/proc/%d/root", p.PID), jail) {
					return nil
				}
				return probe.ErrSkip
			}},
		{What: "jail/ is the root mount of its table", Cmd: "awk '$5 == \"/\"' /proc/PID/mountinfo",
			Hint: "chroot only changes the root directory: bind the jail onto itself (mount --bind jail jail) and pivot_root into it",
			Test: func(p probe.Proc) error { return rootIsMount(p.PID, jail) }},
		{What: "the host's root file system is gone from its mount table", Cmd: "cat /proc/PID/mountinfo",
			Hint: "after pivot_root . old, detach the old root: umount -l /old",
			Test: func(p probe.Proc) error { return hostRootGone(p.PID) }},
	}),
		Check{What: "jail/pivoted.txt shows your escape failing after the pivot", Cmd: "cat " + s.Path("jail/pivoted.txt"),
			Hint: "run /myescape /usr/bin/cat $PWD/secret.txt > /pivoted.txt 2>&1 inside the pivoted jail, before the sleep",
			Test: func() error { return probe.FileContains(s.Path("jail/pivoted.txt"), "No such file or directory") }})
}

// nonEmpty reads a file that must hold something.
func nonEmpty(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, probe.NotThere(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return b, nil
}

// ownProgram checks that prog is an executable inside jail that is not
// a copy of the lesson's escape.
func ownProgram(jail, prog string) error {
	if err := probe.IsDir(jail); err != nil {
		return err
	}
	fi, err := os.Stat(prog)
	if err != nil {
		return probe.NotThere(err)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", prog)
	}
	if theirs, err := exec.LookPath("escape"); err == nil {
		a, _ := os.ReadFile(theirs)
		b, _ := os.ReadFile(prog)
		if bytes.Equal(a, b) {
			return fmt.Errorf("%s is a copy of the lesson's escape: write your own", prog)
		}
	}
	return nil
}

// sameContent checks that two files hold the same bytes.
func sameContent(want, got string) error {
	a, err := nonEmpty(want)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(got)
	if err != nil {
		return probe.NotThere(err)
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%s holds %q", got, strings.TrimSpace(string(b)))
	}
	return nil
}

// rootIsMount checks that the mount at / of pid's table is dir, bound.
func rootIsMount(pid int, dir string) error {
	ms, err := probe.MountsOf(strconv.Itoa(pid))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Point == "/" && filepath.Base(m.Root) == filepath.Base(dir) {
			return nil
		}
	}
	return fmt.Errorf("no mount of %s is at / of process %d", filepath.Base(dir), pid)
}

// hostRootGone checks that none of pid's mounts shows the whole file
// system the checker's / is on.
func hostRootGone(pid int) error {
	host, err := probe.MountAt("/")
	if err != nil {
		return err
	}
	ms, err := probe.MountsOf(strconv.Itoa(pid))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Source == host.Source && m.FSType == host.FSType && m.Root == host.Root {
			return fmt.Errorf("the host's %s is still mounted at %s", host.Source, m.Point)
		}
	}
	return nil
}

// procSearch finds the process an exercise is about. Other processes
// on the host may pass some of its conditions (lesson 09's containers are
// called box too), so it looks at every process that passes the first
// condition and keeps the one that passes the most of the rest, in order;
// each check then reports its condition for that process.
type procSearch struct {
	what   string // "running with jail/ as its root": says what the first condition asks
	stages []func(p probe.Proc) error
	done   bool
	found  bool
	best   probe.Proc
	errs   []error
}

// procCheck is one condition of a search for a process, with its words:
// the first condition finds the process, each later one looks at the
// best candidate.
type procCheck struct {
	What, Cmd, Hint string
	Test            func(p probe.Proc) error
}

// searchChecks returns the checks of a search for the process that is
// what, one for each condition, in order.
func searchChecks(what string, conds []procCheck) []Check {
	s := &procSearch{what: what}
	for _, c := range conds {
		s.stages = append(s.stages, c.Test)
	}
	out := make([]Check, len(conds))
	for i, c := range conds {
		out[i] = Check{What: c.What, Cmd: c.Cmd, Hint: c.Hint, Test: s.stage(i)}
	}
	return out
}

func (s *procSearch) run() {
	if s.done {
		return
	}
	s.done = true
	bestScore := -1
	for _, p := range probe.Processes() {
		if p.PID == os.Getpid() || s.stages[0](p) != nil {
			continue
		}
		errs := make([]error, len(s.stages))
		score := 1
		for i := 1; i < len(s.stages); i++ {
			errs[i] = s.stages[i](p)
			if errs[i] == nil && score == i {
				score++
			}
		}
		if score > bestScore {
			bestScore, s.best, s.errs, s.found = score, p, errs, true
		}
	}
}

// stage returns the Test of condition i.
func (s *procSearch) stage(i int) func() error {
	return func() error {
		s.run()
		switch {
		case !s.found && i == 0:
			return fmt.Errorf("no process is %s", s.what)
		case !s.found:
			return fmt.Errorf("no such process yet")
		}
		return s.errs[i]
	}
}
