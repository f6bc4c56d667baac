package lessoncheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0201 are exercise 02.1's checks.
func checks0201(s *State) []Check {
	return searchChecks("named box in a UTS namespace of its own", []procCheck{
		{What: "a process runs in a UTS namespace of its own whose host name is box",
			Cmd:  "for p in /proc/[0-9]*; do [ $(readlink $p/ns/uts) != $(readlink /proc/self/ns/uts) ] && nsenter --uts --target ${p#/proc/} hostname; done",
			Hint: "/usr/bin/unshare --uts --pid --fork --mount-proc sh -c 'hostname box; exec sleep 300' &",
			Test: named("box")},
		{What: "it is PID 1 of its PID namespace", Cmd: "grep NSpid /proc/PID/status",
			Hint: "util-linux's unshare needs --fork with --pid: only its child is born in the new namespace",
			Test: probe.Proc.PID1},
		{What: "its parent is util-linux's unshare, not the toolkit's", Cmd: "readlink /proc/$(awk '/PPid/ {print $2}' /proc/PID/status)/exe",
			Hint: "name it by its path, /usr/bin/unshare: bin/unshare (the toolkit's) comes first in PATH",
			Test: parentIsUtilLinux},
	})
}

// checks0202 are exercise 02.2's checks.
func checks0202(s *State) []Check {
	file := s.Path("uts-ns")
	return []Check{
		{What: "uts-ns is a UTS namespace bound to a file", Cmd: "findmnt " + file,
			Hint: "touch uts-ns && /usr/bin/unshare --uts=uts-ns hostname persist",
			Test: func() error {
				m, err := probe.MountAt(file)
				if err != nil {
					return err
				}
				if m.FSType != "nsfs" || !strings.HasPrefix(m.Root, "uts:[") {
					return fmt.Errorf("%s is a %s mount of %s, not a UTS namespace (nsfs uts:[...])", file, m.FSType, m.Root)
				}
				return nil
			}},
		{What: "its host name is persist, with no process left in it", Cmd: "nsenter --uts=" + file + " hostname",
			Hint: "/usr/bin/unshare --uts=uts-ns hostname persist: the name is set inside, then the process ends",
			Test: func() error {
				name, err := probe.HostnameIn(file)
				if err != nil {
					return err
				}
				if name != "persist" {
					return fmt.Errorf("it is %q", name)
				}
				return nil
			}},
	}
}

// parentIsUtilLinux checks that p's parent runs util-linux's unshare:
// a program named unshare that is not the toolkit's (which sits next to
// mini-docker in bin/).
func parentIsUtilLinux(p probe.Proc) error {
	exe, err := os.Readlink("/proc/" + p.Status["PPid"] + "/exe")
	if err != nil {
		return fmt.Errorf("its parent (PID %s) is gone: util-linux's unshare --fork stays as the parent", p.Status["PPid"])
	}
	if filepath.Base(exe) != "unshare" {
		return fmt.Errorf("its parent runs %s", exe)
	}
	if self, err := os.Executable(); err == nil && probe.SameFile(exe, filepath.Join(filepath.Dir(self), "unshare")) {
		return fmt.Errorf("its parent is the toolkit's %s", exe)
	}
	return nil
}
