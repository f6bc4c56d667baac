package lessoncheck

import (
	"fmt"
	"os"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0601 are exercise 06.1's checks.
func checks0601(s *State) []Check {
	var owner *probe.Proc
	find := func() error {
		if owner != nil {
			return nil
		}
		p, err := probe.Listener(80)
		if err != nil {
			return err
		}
		owner = &p
		return nil
	}
	return []Check{
		{What: "a process listens on TCP port 80", Cmd: "ss -ltnp 'sport = :80'",
			Hint: "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_bind_service --ambient-caps=+net_bind_service busybox nc -l -p 80 &",
			Test: find},
		{What: "it does not run as root", Cmd: "grep Uid /proc/PID/status",
			Hint: "switch to a user first: setpriv --reuid=65534 (or capctl run --user nobody)",
			Test: func() error {
				if find() != nil {
					return fmt.Errorf("no such process yet")
				}
				if owner.UID() == "0" {
					return fmt.Errorf("its UID is 0")
				}
				return nil
			}},
		{What: "its only capability is CAP_NET_BIND_SERVICE", Cmd: "grep -e CapEff -e CapPrm /proc/PID/status",
			Hint: "a non-root user keeps a capability across execve only in the ambient set: --inh-caps=+net_bind_service --ambient-caps=+net_bind_service",
			Test: func() error {
				if find() != nil {
					return fmt.Errorf("no such process yet")
				}
				const bind = 1 << 10 // CAP_NET_BIND_SERVICE
				if e, p := owner.Caps("CapEff"), owner.Caps("CapPrm"); e != bind || p != bind {
					return fmt.Errorf("CapEff is %016x, CapPrm %016x (want 0000000000000400 for both)", e, p)
				}
				return nil
			}},
	}
}

// checks0602 are exercise 06.2's checks.
func checks0602(s *State) []Check {
	const chown, dacOverride = 1 << 0, 1 << 1
	return append(searchChecks("a root process whose bounding set lacks CAP_CHOWN", []procCheck{
		{What: "a root process runs with CAP_CHOWN out of its bounding set", Cmd: "grep -l '^Uid:\\s0' /proc/[0-9]*/status | xargs grep CapBnd",
			Hint: "capsh --drop=cap_chown -- -c 'exec sleep 300' &",
			Test: func(p probe.Proc) error {
				if p.UID() != "0" || p.Caps("CapBnd")&chown != 0 || p.Caps("CapBnd") == 0 {
					return probe.ErrSkip
				}
				return nil
			}},
		{What: "its effective set lacks CAP_CHOWN", Cmd: "grep CapEff /proc/PID/status",
			Hint: "drop it before the exec: capsh --drop=cap_chown -- -c '...'",
			Test: func(p probe.Proc) error {
				if p.Caps("CapEff")&chown != 0 {
					return fmt.Errorf("its CapEff %016x has CAP_CHOWN", p.Caps("CapEff"))
				}
				return nil
			}},
		{What: "it keeps every other capability", Cmd: "capsh --decode=$(awk '/CapBnd/ {print $2}' /proc/PID/status)",
			Hint: "drop CAP_CHOWN and nothing else",
			Test: func(p probe.Proc) error {
				// What the checker itself may have: the host may hold some
				// back from everyone (CAP_SYS_MODULE in a container, say).
				self, err := os.ReadFile("/proc/self/status")
				if err != nil {
					return err
				}
				all := probe.Proc{Status: probe.ParseStatus(string(self))}.Caps("CapBnd")
				if b := p.Caps("CapBnd"); b != all&^chown {
					return fmt.Errorf("its CapBnd is %016x: drop CAP_CHOWN alone (want %016x)", b, all&^chown)
				}
				if p.Caps("CapEff")&dacOverride == 0 {
					return fmt.Errorf("it lost CAP_DAC_OVERRIDE too")
				}
				return nil
			}},
	}),
		Check{What: "chown.txt shows a chown refused", Cmd: "cat " + s.Path("chown.txt"),
			Hint: "in the same shell, before the sleep: touch f; chown 65534 f 2> chown.txt",
			Test: func() error { return probe.FileContains(s.Path("chown.txt"), "Operation not permitted") }})
}
