package devicefilter_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/cgroupctl/cgroup/devicefilter"
	"mini-docker/internal/testenv"
)

// helperEnv names the group the test binary, run again as a helper,
// moves itself into before it tries the device operations of its
// arguments.
const helperEnv = "MD_DEVICEFILTER_GROUP"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helper(dir, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper joins the group and prints, for each operation ("open PATH
// r|w|rw" or "mknod PATH c|b MAJ MIN"), "denied" when the kernel said
// EPERM and "allowed" otherwise (a node of a missing device opens with
// ENXIO: the device check came first and let it through).
func helper(dir string, ops []string) int {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("0"), 0); err != nil {
		fmt.Println(err)
		return 1
	}
	for _, op := range ops {
		f := strings.Fields(op)
		var err error
		switch f[0] {
		case "open":
			flag := map[string]int{"r": unix.O_RDONLY, "w": unix.O_WRONLY, "rw": unix.O_RDWR}[f[2]]
			var fd int
			if fd, err = unix.Open(f[1], flag|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		case "mknod":
			var maj, min uint32
			fmt.Sscan(f[3]+" "+f[4], &maj, &min)
			mode := map[string]uint32{"c": unix.S_IFCHR, "b": unix.S_IFBLK}[f[2]]
			if err = unix.Mknod(f[1], mode|0o600, int(unix.Mkdev(maj, min))); err == nil {
				os.Remove(f[1])
			}
		}
		fmt.Println(map[bool]string{true: "denied", false: "allowed"}[errors.Is(err, unix.EPERM)])
	}
	return 0
}

// v2Root is the cgroup2 tree of this host: the whole tree on a v2 host,
// /sys/fs/cgroup/unified on a hybrid one (which takes device programs
// though it holds no controller).
func v2Root(t *testing.T) string {
	testenv.Integration(t)
	testenv.RequireRoot(t)
	h, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireFeature(t, h.V2Root != "", "no cgroup2 tree mounted")
	return h.V2Root
}

// nodes makes the device nodes the cases open, from outside any
// filtered group, in a directory on a file system without nodev.
func nodes(t *testing.T) string {
	dir, err := os.MkdirTemp("/var/tmp", "md-devicefilter-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, n := range []struct {
		name         string
		mode         uint32
		major, minor uint32
	}{{"null", unix.S_IFCHR, 1, 3}, {"zero", unix.S_IFCHR, 1, 5}, {"fuse", unix.S_IFCHR, 10, 229},
		{"loop", unix.S_IFBLK, 7, 0}, {"blk13", unix.S_IFBLK, 1, 3}} {
		if err := unix.Mknod(filepath.Join(dir, n.name), n.mode|0o600, int(unix.Mkdev(n.major, n.minor))); err != nil {
			t.Fatalf("mknod %s: %v", n.name, err)
		}
	}
	return dir
}

// TestKernelEnforces attaches the program of each rule set to a fresh
// group of the cgroup2 tree, runs a process in it, and checks what the
// kernel lets it open and make: the rules' meaning on v1, enforced on
// v2 (EPERM for what they deny).
func TestKernelEnforces(t *testing.T) {
	root := v2Root(t)
	dev := nodes(t)
	n := func(s string) string { return filepath.Join(dev, s) }
	for _, c := range []struct {
		name  string
		rules []devicefilter.Rule
		ops   map[string]string // operation → allowed or denied
	}{
		{"docker", devicefilter.RulesOf("docker", ""), map[string]string{
			"open " + n("null") + " rw": "allowed", "open " + n("zero") + " r": "allowed",
			"open " + n("fuse") + " r": "denied", "open " + n("loop") + " r": "denied",
			"mknod " + n("m1") + " c 10 229": "allowed", "mknod " + n("m2") + " b 7 0": "allowed"}},
		{"privileged", devicefilter.RulesOf("all", ""), map[string]string{
			"open " + n("fuse") + " r": "allowed", "open " + n("loop") + " r": "allowed"}},
		{"deny rule", []devicefilter.Rule{{Allow: true, Rule: "a"}, {Allow: false, Rule: "c 1:5 w"}}, map[string]string{
			"open " + n("zero") + " r": "allowed", "open " + n("zero") + " w": "denied",
			"open " + n("zero") + " rw": "denied", "open " + n("null") + " w": "allowed"}},
		{"r without m", []devicefilter.Rule{{Allow: false, Rule: "a"}, {Allow: true, Rule: "c 1:3 r"}}, map[string]string{
			"open " + n("null") + " r": "allowed", "open " + n("null") + " w": "denied",
			"mknod " + n("m3") + " c 1 3": "denied"}},
		{"m without r", []devicefilter.Rule{{Allow: false, Rule: "a"}, {Allow: true, Rule: "c 1:3 m"}}, map[string]string{
			"open " + n("null") + " r": "denied", "mknod " + n("m4") + " c 1 3": "allowed"}},
		{"wildcard", []devicefilter.Rule{{Allow: false, Rule: "a"}, {Allow: true, Rule: "c 1:* rw"}}, map[string]string{
			"open " + n("null") + " rw": "allowed", "open " + n("zero") + " r": "allowed",
			"open " + n("fuse") + " r": "denied", "open " + n("blk13") + " r": "denied"}},
		{"block, not char", []devicefilter.Rule{{Allow: false, Rule: "a"}, {Allow: true, Rule: "b 1:3 rwm"}}, map[string]string{
			"open " + n("blk13") + " r": "allowed", "open " + n("null") + " r": "denied",
			"mknod " + n("m5") + " b 1 3": "allowed", "mknod " + n("m6") + " c 1 3": "denied"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, fmt.Sprintf("md-devicefilter-%d-%s", os.Getpid(), strings.ReplaceAll(c.name, " ", "-")))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(dir) // the helper has exited: the group is empty
			if err := devicefilter.Apply(dir, c.rules, nil); err != nil {
				t.Fatal(err)
			}
			var ops, want []string
			for op, w := range c.ops {
				ops, want = append(ops, op), append(want, w)
			}
			cmd := exec.Command(os.Args[0], ops...)
			cmd.Env = append(os.Environ(), helperEnv+"="+dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for i, op := range ops {
				if i >= len(got) || got[i] != want[i] {
					t.Errorf("%s: got %q, want %s (rules %v)\n%s", op, got, want[i], c.rules, out)
				}
			}
		})
	}
}

// TestApplyReplaces: a second Apply leaves one program (the new one)
// on the group, a bad rule attaches nothing, Detach leaves none, and
// rmdir of the group takes what is attached with it.
func TestApplyReplaces(t *testing.T) {
	root := v2Root(t)
	dir := filepath.Join(root, fmt.Sprintf("md-devicefilter-%d-replace", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	attached := func(want int) []uint32 {
		t.Helper()
		ids, err := devicefilter.Programs(dir)
		if err != nil || len(ids) != want {
			t.Fatalf("programs on %s: %v, %v; want %d", dir, ids, err, want)
		}
		return ids
	}
	if err := devicefilter.Apply(dir, devicefilter.RulesOf("docker", ""), nil); err != nil {
		t.Fatal(err)
	}
	first := attached(1)
	if err := devicefilter.Apply(dir, devicefilter.RulesOf("all", ""), nil); err != nil {
		t.Fatal(err)
	}
	if second := attached(1); second[0] == first[0] {
		t.Errorf("program %d still attached after a second Apply", first[0])
	}
	err := devicefilter.Apply(dir, []devicefilter.Rule{{Allow: true, Rule: "c 1:3 rwx"}}, nil)
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad rule: %v, want one line", err)
	}
	attached(1)
	if err := devicefilter.Detach(dir, nil); err != nil {
		t.Fatal(err)
	}
	attached(0)
}
