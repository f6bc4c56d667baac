package ns

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseType(t *testing.T) {
	cases := []struct {
		in   string
		flag uintptr
		ok   bool
	}{
		{"net", unix.CLONE_NEWNET, true},
		{"network", unix.CLONE_NEWNET, true},
		{"mnt", unix.CLONE_NEWNS, true},
		{"mount", unix.CLONE_NEWNS, true},
		{"user", unix.CLONE_NEWUSER, true},
		{"time", unix.CLONE_NEWTIME, true},
		{"pid_for_children", 0, false},
		{"foo", 0, false},
	}
	for _, c := range cases {
		got, err := ParseType(c.in)
		if (err == nil) != c.ok || got.Flag != c.flag {
			t.Errorf("ParseType(%q) = %+v, %v", c.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "want one of") {
			t.Errorf("error should list the valid names: %v", err)
		}
	}
}

func TestCloneFlagString(t *testing.T) {
	got := cloneFlagString(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUSER)
	if got != "CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNS" {
		t.Errorf("cloneFlagString = %q", got)
	}
	if got := flagNames(unix.CLONE_NEWNET | unix.CLONE_NEWUTS); got != "--uts --net" {
		t.Errorf("flagNames = %q", got)
	}
}

func TestShowSelfUnit(t *testing.T) {
	entries, err := Show(os.Getpid())
	if err != nil {
		t.Skipf("cannot read namespaces here: %v", err)
	}
	seen := map[string]uint64{}
	for _, e := range entries {
		seen[e.Type] = e.Inode
	}
	for _, want := range []string{"mnt", "net", "pid", "user", "uts", "ipc"} {
		if seen[want] == 0 {
			t.Errorf("Show lacks %s: %+v", want, entries)
		}
	}
	if seen["pid"] != seen["pid_for_children"] {
		t.Errorf("pid and pid_for_children differ for a plain process: %+v", entries)
	}
}

func TestIDMap(t *testing.T) {
	m := IDMap(0, 1000)
	if len(m) != 1 || m[0].ContainerID != 0 || m[0].HostID != 1000 || m[0].Size != 1 {
		t.Errorf("IDMap = %+v", m)
	}
}
