package lessoncheck

import (
	"fmt"
	"os"
	"strings"

	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/seccompctl/seccomp"
)

// checks0701 are exercise 07.1's checks.
func checks0701(s *State) []Check {
	file := s.Path("no-mkdir.json")
	var prog *seccomp.Program
	var arch *seccomp.Arch
	load := func() error {
		if prog != nil {
			return nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return probe.NotThere(err)
		}
		p, err := seccomp.ParseProfile(b, file)
		if err != nil {
			return err
		}
		if arch, err = seccomp.NativeArch(); err != nil {
			return err
		}
		_, prog, err = seccomp.Build(p, seccomp.Options{Arch: arch})
		return err
	}
	// gets checks that the profile gives each of names the action want.
	gets := func(want string, names ...string) func() error {
		return func() error {
			if err := load(); err != nil {
				return fmt.Errorf("the profile does not load")
			}
			for _, n := range names {
				r, err := seccomp.Check(prog, arch, n, nil)
				if err != nil {
					return err
				}
				if got := seccomp.RetString(r); got != want {
					return fmt.Errorf("%s gets %s", n, got)
				}
			}
			return nil
		}
	}
	return []Check{
		{What: "no-mkdir.json is a seccomp profile", Cmd: "seccompctl dump " + file,
			Hint: `printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [...]}' > no-mkdir.json: Docker's format, as in lesson 07`,
			Test: load},
		{What: "it answers mkdir and mkdirat with EPERM", Cmd: "seccompctl check " + file + " mkdir; seccompctl check " + file + " mkdirat",
			Hint: `a rule {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}: mkdir(1) calls mkdirat on most machines`,
			Test: gets("ERRNO(EPERM)", "mkdir", "mkdirat")},
		{What: "it allows everything else", Cmd: "seccompctl check " + file + " openat",
			Hint: `"defaultAction": "SCMP_ACT_ALLOW", and no other rule`,
			Test: gets("ALLOW", "openat", "read", "write", "execve", "rmdir", "exit_group")},
		{What: "mkdir.txt shows mkdir refused under it, and no folder forbidden was made", Cmd: "cat " + s.Path("mkdir.txt") + "; ls -d " + s.Path("forbidden"),
			Hint: "seccompctl run --profile no-mkdir.json -- mkdir forbidden 2> mkdir.txt",
			Test: func() error {
				if err := probe.FileContains(s.Path("mkdir.txt"), "Operation not permitted"); err != nil {
					return err
				}
				return absent(s.Path("forbidden"))
			}},
	}
}

// checks0702 are exercise 07.2's checks.
func checks0702(s *State) []Check {
	return searchChecks("a sleep under a seccomp filter", []procCheck{
		{What: "a sleep runs under a seccomp filter (Seccomp: 2)", Cmd: "grep -H Seccomp: /proc/$(pgrep -n -x sleep)/status",
			Hint: "seccompctl run --profile no-mkdir.json -- sleep 300 &",
			Test: func(p probe.Proc) error {
				if p.Status["Name"] != "sleep" || p.Status["Seccomp"] != "2" {
					return probe.ErrSkip
				}
				return nil
			}},
		{What: "it has no_new_privs (NoNewPrivs: 1)", Cmd: "grep NoNewPrivs /proc/PID/status",
			Hint: "setpriv --no-new-privs, inside the filter: seccompctl run --profile no-mkdir.json -- setpriv --no-new-privs ... sleep 300",
			Test: func(p probe.Proc) error {
				if p.Status["NoNewPrivs"] != "1" {
					return fmt.Errorf("its NoNewPrivs is %s", p.Status["NoNewPrivs"])
				}
				return nil
			}},
		{What: "it does not run as root", Cmd: "grep Uid /proc/PID/status",
			Hint: "setpriv --reuid=65534 --regid=65534 --clear-groups",
			Test: func(p probe.Proc) error {
				if p.UID() == "0" || strings.TrimSpace(p.UID()) == "" {
					return fmt.Errorf("its UID is %s", p.UID())
				}
				return nil
			}},
	})
}
