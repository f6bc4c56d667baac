package lessoncheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mini-docker/internal/lessoncheck/exercise"
	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

// Every exercise the checker knows has its section and worked solution
// in lessons/exercises/NN-*.md, and every section there has checks.
func TestExercisesMatchTheirFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "lessons", "exercises", "[0-9][0-9]-*.md"))
	if len(files) == 0 {
		t.Fatal("no lessons/exercises/NN-*.md")
	}
	heading := regexp.MustCompile(`(?m)^## ([0-9]{2}\.[0-9]+) (.*)$`)
	inFiles := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		l, err := lessonrun.Parse(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		exs, err := l.Exercises()
		if err != nil {
			t.Fatal(err)
		}
		solved := map[string]bool{}
		for _, ex := range exs {
			if len(ex.Steps) > 0 {
				solved[ex.ID] = true
			}
		}
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			id, title := m[1], m[2]
			inFiles[id] = true
			if !strings.HasPrefix(filepath.Base(f), id[:2]+"-") {
				t.Errorf("%s: exercise %s is in another lesson's file", f, id)
			}
			e, err := exercise.Find(id)
			if err != nil {
				t.Errorf("%s: %s has no checks: %v", f, id, err)
				continue
			}
			if e.Title != title {
				t.Errorf("%s: %s is titled %q in the file, %q in the checker", f, id, title, e.Title)
			}
			if !solved[id] {
				t.Errorf("%s: %s has no worked solution (```console exercise=%s)", f, id, id)
			}
		}
	}
	perLesson := map[string]int{}
	for _, e := range exercise.All() {
		if !inFiles[e.ID] {
			t.Errorf("exercise %s has checks but no section in lessons/exercises/", e.ID)
		}
		perLesson[e.ID[:2]]++
	}
	// Every lesson but 00 (the set-up) has two exercises or more.
	lessons, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "lessons", "[0-9][0-9]-*.md"))
	for _, f := range lessons {
		if nn := filepath.Base(f)[:2]; nn != "00" && perLesson[nn] < 2 {
			t.Errorf("lesson %s has %d exercises, want two or more (lessons/exercises/%s-*.md)", filepath.Base(f), perLesson[nn], nn)
		}
	}
}

// On an empty scratch folder, with an empty mini-docker state root, the
// exercises fail; each ✗ line says why and the first gives a hint.
// Lessons 03, 09 and 10 look at objects of the whole host (the mine*
// cgroups, any process named hand, web or ex10), which another run of
// their exercises may hold at the same time: those may pass here (make
// lessons proves ✗ for each in a sandbox of its own, and refuses to start
// while another run's groups are there). Every check has a command for
// --explain, a hint and a description. As root the exercises are checked
// in a PID namespace of the test's own (ranInOwnPIDNamespace): checks
// that search every process (02.1's host named box, 07.2's filtered
// sleep) would otherwise find the containers and unshare runs of other
// packages' tests, which go test runs at the same time.
func TestNothingDoneFails(t *testing.T) {
	if ranInOwnPIDNamespace(t) {
		return
	}
	dir := t.TempDir()
	t.Setenv("MINI_DOCKER_ROOT", filepath.Join(dir, ".mini-docker"))
	s := exercise.NewState(dir)
	hostWide := map[string]bool{"03": true, "09": true, "10": true}
	for _, e := range exercise.All() {
		rs := e.Run(s, nil)
		var out bytes.Buffer
		exercise.Print(&out, e, rs)
		text := out.String()
		switch {
		case exercise.Passed(rs) && !hostWide[e.ID[:2]]:
			t.Errorf("%s passes in an empty folder:\n%s", e.ID, text)
		case exercise.Passed(rs):
			t.Logf("%s passes: another run holds what it looks for on the host", e.ID)
		case !strings.Contains(text, "✗ ") || !strings.Contains(text, "  hint: ") || !strings.HasSuffix(text, " checks pass\n"):
			t.Errorf("%s prints:\n%s", e.ID, text)
		}
		for _, c := range e.Checks(s) {
			if c.Cmd == "" || c.Hint == "" || c.What == "" {
				t.Errorf("%s: check %q lacks a command, a hint or a description", e.ID, c.What)
			}
		}
	}
}

// pidNamespaceEnv marks the test binary ranInOwnPIDNamespace started.
const pidNamespaceEnv = "MINI_DOCKER_LESSONCHECK_OWN_PIDNS"

// ranInOwnPIDNamespace runs t again in a child test process in a new PID
// namespace with its own /proc (util-linux unshare --pid --fork
// --mount-proc), reports the child's result as t's, and returns true;
// it returns false, and t runs here, in that child or without root.
func ranInOwnPIDNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(pidNamespaceEnv) == "1" || os.Geteuid() != 0 {
		return false
	}
	unshare := testenv.RequireCommand(t, "unshare")
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "--",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), pidNamespaceEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s in a PID namespace of its own: %v\n%s", t.Name(), err, out)
	} else {
		t.Logf("in a PID namespace of its own:\n%s", out)
	}
	return true
}

func TestFind(t *testing.T) {
	for _, id := range []string{"03.2", "3.2"} {
		if e, err := exercise.Find(id); err != nil || e.ID != "03.2" {
			t.Errorf("exercise.Find(%q) = %v, %v", id, e, err)
		}
	}
	if _, err := exercise.Find("99.1"); err == nil {
		t.Error("exercise.Find(99.1) found something")
	}
}

func TestProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "lessons.json")
	p, err := exercise.LoadProgress(path)
	if err != nil || len(p.Passed) != 0 {
		t.Fatalf("no file: %v, %v", p, err)
	}
	now := time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)
	if err := exercise.MarkPassed(path, "03.2", now); err != nil {
		t.Fatal(err)
	}
	if err := exercise.MarkPassed(path, "03.2", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p, err = exercise.LoadProgress(path)
	if err != nil || !p.Passed["03.2"].Equal(now) || len(p.Passed) != 1 {
		t.Fatalf("after two passes: %v, %v", p, err)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := exercise.LoadProgress(path); err == nil {
		t.Error("a broken progress file loads")
	}
}

func TestParsers(t *testing.T) {
	st := probe.ParseStatus("Name:\tsl:eep\nNSpid:\t812\t1\nCapEff:\t0000000000000400\n")
	p := probe.Proc{Status: st}
	if st["Name"] != "sl:eep" || p.NsPID() != "1" || p.Caps("CapEff") != 0x400 {
		t.Errorf("status: %v", st)
	}
	ms := probe.ParseMountinfo("36 35 98:0 /jail /mnt\\040x rw,noatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u\nbad line\n")
	if len(ms) != 1 || ms[0].Point != "/mnt x" || ms[0].FSType != "overlay" || probe.OptValue(ms[0].Super, "upperdir") != "/u" {
		t.Errorf("mountinfo: %+v", ms)
	}
	snmp := probe.ParseSNMP("Ip: Forwarding DefaultTTL\nIp: 1 64\nIcmp: InMsgs InEchos\nIcmp: 3 2\n")
	if snmp["Icmp.InEchos"] != 2 || snmp["Ip.DefaultTTL"] != 64 {
		t.Errorf("snmp: %v", snmp)
	}
	socks := probe.ParseTCP("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 12345 1 0 100 0 0 10 0\n")
	if len(socks) != 1 || socks[0].Port != 80 || socks[0].State != "0A" || socks[0].UID != "65534" || socks[0].Inode != "12345" {
		t.Errorf("tcp: %+v", socks)
	}
	us := probe.ParseUnix("Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 4242 /tmp/a b.sock\n" +
		"0000000000000000: 00000003 00000000 00000000 0001 03 4243\n")
	if len(us) != 2 || !us[0].Listening || us[0].Inode != "4242" || us[0].Path != "/tmp/a b.sock" || us[1].Listening || us[1].Path != "" {
		t.Errorf("unix: %+v", us)
	}
	if g, ok := probe.GroupIn("12:pids:/a\n4:memory:/mini-docker/box\n0::/x:y\n", "memory", false); !ok || g != "/mini-docker/box" {
		t.Errorf("v1 group: %q %v", g, ok)
	}
	if g, ok := probe.GroupIn("0::/x:y\n", "memory", true); !ok || g != "/x:y" {
		t.Errorf("v2 group: %q %v", g, ok)
	}
	if k := probe.ParseKeyed("max 3\nfrozen 1\njunk\n"); k["max"] != 3 || k["frozen"] != 1 {
		t.Errorf("keyed: %v", k)
	}
}

// The parsers read text that processes and mounts choose (a process's
// name, a mount point, a group's name): they must never panic on it.
func FuzzParsers(f *testing.F) {
	f.Add("Name:\tx\nNSpid:\t1\t2\n")
	f.Add("36 35 98:0 / / rw - ext4 /dev/root rw\n")
	f.Add("Icmp: InEchos\nIcmp: 1\n")
	f.Add("   0: 00000000:0050 00000000:0000 0A 0:0 0:0 0 0 0 1\n")
	f.Add("4:memory:/a\n0::/b\n")
	f.Add(`\\\0`)
	f.Add("0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/x.sock\n")
	f.Fuzz(func(t *testing.T, text string) {
		st := probe.ParseStatus(text)
		p := probe.Proc{Status: st}
		p.NsPID()
		p.UID()
		p.Caps("CapEff")
		for _, m := range probe.ParseMountinfo(text) {
			probe.OptValue(m.Super, "upperdir")
			probe.HasOpt(m.Opts, "ro")
		}
		probe.ParseSNMP(text)
		for _, s := range probe.ParseTCP(text) {
			if s.Port < 0 || s.Port > 65535 {
				t.Errorf("port %d", s.Port)
			}
		}
		for _, u := range probe.ParseUnix(text) {
			if strings.Contains(u.Path, "\n") || u.Inode == "" || strings.ContainsAny(u.Inode, " \t\n") {
				t.Errorf("socket %+v", u)
			}
		}
		probe.GroupIn(text, "memory", false)
		probe.GroupIn(text, "memory", true)
		probe.ParseKeyed(text)
	})
}

func TestMain(m *testing.M) { testenv.Main(m) }
