package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// programCases are profiles compiled for several processes: the built-in
// one for the capability sets that select different rules of it, and
// small ones that use every operator and action and a program long
// enough to need trampolines.
func programCases(t *testing.T) []struct {
	name string
	p    *Profile
} {
	t.Helper()
	deny, err := DenyProfile([]string{"mkdir", "unshare"}, ActErrno, 1, archAMD64)
	if err != nil {
		t.Fatal(err)
	}
	e := uint(unix.ENOTBLK)
	var ops []Syscall
	for i, op := range []Operator{OpEQ, OpNE, OpLT, OpLE, OpGT, OpGE, OpMaskedEQ} {
		for _, v := range []uint64{8, 1<<32 | 8} {
			ops = append(ops, Syscall{Names: []string{"getppid", "personality"}, Action: ActErrno, ErrnoRet: &e,
				Args: []Arg{{Index: uint(i % 6), Value: v, ValueTwo: v & 0xf, Op: op}, {Index: 5, Value: v, Op: OpNE}}})
		}
	}
	for _, a := range []Action{ActAllow, ActKill, ActKillThread, ActKillProcess, ActTrap, ActLog, ActTrace} {
		ops = append(ops, Syscall{Names: []string{"mkdir"}, Action: a, Args: []Arg{{Index: 1, Value: 0o700, Op: OpEQ}}})
	}
	var long []Syscall
	for i := 0; i < 400; i++ {
		long = append(long, Syscall{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: &e,
			Args: []Arg{{Index: 0, Value: uint64(i * 3), Op: OpEQ}}})
	}
	long = append(long, Syscall{Names: []string{"getpgrp"}, Action: ActKillProcess, Args: []Arg{{Index: 0, Value: 7, Op: OpEQ}}})
	return []struct {
		name string
		p    *Profile
	}{
		{"default", DefaultProfile()},
		{"deny", deny},
		{"ops", &Profile{Source: "ops", DefaultAction: ActLog, Syscalls: ops}},
		{"long", &Profile{Source: "long", DefaultAction: ActAllow, Syscalls: long}},
	}
}

// The programs the compiler makes are fixed: every byte installed, and
// every comment dump prints, for each profile, architecture, kernel and
// capability set here is what testdata/programs.golden recorded (go test
// -update rewrites it when a change is intended).
func TestProgramsGolden(t *testing.T) {
	capSets := []string{"", dockerCaps, dockerCaps + ",SYS_ADMIN", dockerCaps + ",SYS_PTRACE,SYS_BOOT",
		dockerCaps + ",BPF,PERFMON,SYS_NICE,SYSLOG", "SYS_MODULE,SYS_RAWIO,SYS_PACCT,SYS_TIME,SYS_TTY_CONFIG,SYS_RESOURCE,DAC_READ_SEARCH,SYS_CHROOT", "ALL"}
	var b strings.Builder
	for _, c := range programCases(t) {
		for _, arch := range []*Arch{archAMD64, archARM64} {
			for _, kernel := range []string{"4.7", "6.1"} {
				for _, caps := range capSets {
					if c.name != "default" && caps != dockerCaps {
						continue
					}
					cs, err := ParseCaps(caps)
					if err != nil {
						t.Fatal(err)
					}
					_, prog, err := Build(c.p, Options{Arch: arch, Caps: cs, Kernel: kernel})
					if err != nil {
						t.Fatal(err)
					}
					insns := sha256.New()
					for _, in := range prog.Insns {
						binary.Write(insns, binary.LittleEndian, in)
					}
					comments := sha256.Sum256([]byte(strings.Join(prog.Comments, "\n")))
					fmt.Fprintf(&b, "%s %s %s caps=%q: %d insns %x comments %x\n", c.name, arch.Name, kernel, caps,
						len(prog.Insns), insns.Sum(nil)[:12], comments[:12])
				}
			}
		}
	}
	path := filepath.Join("testdata", "programs.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("programs changed (go test ./seccompctl/seccomp -update if intended)\n%s", firstDiff(string(want), got))
	}
}
