package caps

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Cap
	}{
		{"CAP_NET_ADMIN", NET_ADMIN},
		{"cap_net_admin", NET_ADMIN},
		{"NET_ADMIN", NET_ADMIN},
		{"net_admin", NET_ADMIN},
		{" Cap_Chown ", CHOWN},
		{"12", NET_ADMIN},
		{"cap_12", NET_ADMIN},
		{"setfcap", SETFCAP},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "FOO", "CAP_", "NET-ADMIN", "64", "-1", "cap_all_the_things"} {
		_, err := Parse(bad)
		var u *UnknownError
		if !errors.As(err, &u) {
			t.Errorf("Parse(%q) error = %v; want an UnknownError", bad, err)
		}
	}
	if Last() < 63 {
		if _, err := Parse("63"); err == nil || !strings.Contains(err.Error(), "not known to this kernel") {
			t.Errorf("Parse(63) beyond cap_last_cap %d: error = %v", Last(), err)
		}
	}
}

func TestNamesCoverKernel(t *testing.T) {
	// Every capability up to the running kernel's last has a name or a
	// cap_N form that parses back to it.
	for _, c := range All().Caps() {
		got, err := Parse(c.String())
		if err != nil || got != c {
			t.Errorf("Parse(%q) = %v, %v; want %d", c.String(), got, err, int(c))
		}
		got, err = Parse(c.DockerName())
		if err != nil || got != c {
			t.Errorf("Parse(%q) = %v, %v; want %d", c.DockerName(), got, err, int(c))
		}
	}
	if Cap(40).String() != "cap_checkpoint_restore" || Cap(41).String() != "41" || Cap(41).DockerName() != "CAP_41" {
		t.Errorf("names: 40 = %s, 41 = %s", Cap(40), Cap(41))
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want Set
	}{
		{"", 0},
		{"CHOWN", SetOf(CHOWN)},
		{"chown,cap_kill, CAP_NET_RAW", SetOf(CHOWN, KILL, NET_RAW)},
		{"+net_bind_service,+setuid", SetOf(NET_BIND_SERVICE, SETUID)},
		{"ALL", All()},
		{"all", All()},
		{"CAP_ALL,chown", All()},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseList(%q) = %s, %v; want %s", tt.in, got.Hex(), err, tt.want.Hex())
		}
	}
	if _, err := ParseList("CHOWN,NOPE"); err == nil || err.Error() != `unknown capability "NOPE"` {
		t.Errorf("ParseList with an unknown name: %v", err)
	}
}

func TestDockerDefaultHex(t *testing.T) {
	// The number every `grep Cap /proc/self/status` in a Docker container shows.
	if got := DockerDefault.Hex(); got != "00000000a80425fb" {
		t.Errorf("DockerDefault = %s; want 00000000a80425fb", got)
	}
	if DockerDefault.Len() != 14 {
		t.Errorf("DockerDefault has %d capabilities; want 14", DockerDefault.Len())
	}
	want := "cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,cap_setpcap," +
		"cap_net_bind_service,cap_net_raw,cap_sys_chroot,cap_mknod,cap_audit_write,cap_setfcap"
	if DockerDefault.String() != want { // capsh --decode=00000000a80425fb
		t.Errorf("DockerDefault = %s", DockerDefault)
	}
}

func TestDecodeEncodeHex(t *testing.T) {
	tests := []struct {
		in   string
		want Set
	}{
		{"00000000a80425fb", DockerDefault},
		{"0xa80425fb", DockerDefault},
		{"0000000000000000", 0},
		{"000001ffffffffff", Set(1<<41 - 1)},
		{"ffffffffffffffff", ^Set(0)},
	}
	for _, tt := range tests {
		got, err := ParseHex(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseHex(%q) = %x, %v", tt.in, uint64(got), err)
		}
		if back, _ := ParseHex(got.Hex()); back != got || len(got.Hex()) != 16 {
			t.Errorf("Hex round trip of %q: %q", tt.in, got.Hex())
		}
	}
	for _, bad := range []string{"", "0x", "xyz", "10000000000000000"} {
		if _, err := ParseHex(bad); err == nil {
			t.Errorf("ParseHex(%q) succeeded", bad)
		}
	}
}

func TestCompute(t *testing.T) {
	all := All()
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       Set
	}{
		{"nothing", nil, nil, false, DockerDefault},
		{"drop one", nil, []string{"CHOWN"}, false, DockerDefault &^ SetOf(CHOWN)},
		{"add one", []string{"NET_ADMIN"}, nil, false, DockerDefault | SetOf(NET_ADMIN)},
		{"add wins over drop", []string{"CHOWN"}, []string{"chown"}, false, DockerDefault},
		{"drop ALL, add one", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, false, SetOf(NET_BIND_SERVICE)},
		{"add ALL, drop one", []string{"all"}, []string{"SYS_ADMIN"}, false, all &^ SetOf(SYS_ADMIN)},
		{"add ALL, drop ALL", []string{"ALL"}, []string{"ALL"}, false, all},
		{"privileged ignores drops", nil, []string{"ALL"}, true, all},
	}
	for _, tt := range tests {
		got, err := Compute(DockerDefault, tt.add, tt.drop, tt.privileged)
		if err != nil || got != tt.want {
			t.Errorf("%s: Compute = %s, %v; want %s", tt.name, got.Hex(), err, tt.want.Hex())
		}
	}
	if _, err := Compute(DockerDefault, []string{"FLY"}, nil, false); err == nil {
		t.Error("Compute with an unknown --cap-add succeeded")
	}
	if _, err := Compute(DockerDefault, nil, []string{"FLY"}, false); err == nil {
		t.Error("Compute with an unknown --cap-drop succeeded")
	}
}

func TestForContainer(t *testing.T) {
	s := ForContainer(DockerDefault, 0)
	if s.Bounding != DockerDefault || s.Permitted != DockerDefault || s.Effective != DockerDefault ||
		s.Inheritable != 0 || s.Ambient != 0 {
		t.Errorf("ForContainer(DockerDefault) = %+v", s)
	}
	s = ForContainer(0, SetOf(NET_BIND_SERVICE))
	if s.Ambient != SetOf(NET_BIND_SERVICE) || s.Inheritable != s.Ambient || s.Permitted != s.Ambient {
		t.Errorf("ForContainer(keep NET_BIND_SERVICE) = %+v", s)
	}
	if err := s.check(); err != nil {
		t.Error(err)
	}
	bad := Spec{Permitted: SetOf(CHOWN), Ambient: SetOf(CHOWN)}
	if err := bad.check(); err == nil {
		t.Error("an ambient capability that is not inheritable passed check")
	}
}

func TestFileCapsEncoding(t *testing.T) {
	tests := []struct {
		name string
		fc   FileCaps
		hex  string // the xattr bytes, as `getfattr -e hex -n security.capability` shows them
	}{
		{"v2 net_bind_service+ep", FileCaps{Permitted: SetOf(NET_BIND_SERVICE), Effective: true, Version: 2},
			"0100000200040000000000000000000000000000"},
		{"v2 net_raw+p", FileCaps{Permitted: SetOf(NET_RAW), Version: 2},
			"0000000200200000000000000000000000000000"},
		{"v2 high bits, inheritable", FileCaps{Permitted: SetOf(Cap(40)), Inheritable: SetOf(Cap(32), CHOWN), Version: 2},
			"0000000200000000010000000001000001000000"},
		{"v3 rootid 1000", FileCaps{Permitted: SetOf(NET_RAW), Inheritable: SetOf(NET_RAW), Effective: true, Version: 3, RootID: 1000},
			"010000030020000000200000000000000000000000e80300"[:40] + "e8030000"},
	}
	for _, tt := range tests {
		b := tt.fc.Encode()
		if got := hex.EncodeToString(b); got != tt.hex {
			t.Errorf("%s: Encode = %s; want %s", tt.name, got, tt.hex)
		}
		back, err := DecodeFileCaps(b)
		if err != nil || back != tt.fc {
			t.Errorf("%s: Decode(Encode) = %+v, %v", tt.name, back, err)
		}
	}
	// Revision 1: 32 capabilities, 12 bytes (written by kernels before 2.6.25).
	v1, _ := hex.DecodeString("010000010004000000000000")
	fc, err := DecodeFileCaps(v1)
	if err != nil || fc.Version != 1 || fc.Permitted != SetOf(NET_BIND_SERVICE) || !fc.Effective {
		t.Errorf("Decode v1 = %+v, %v", fc, err)
	}
	for _, bad := range []string{"", "010000", "0100000200040000", "0100000400040000000000000000000000000000"} {
		b, _ := hex.DecodeString(bad)
		if _, err := DecodeFileCaps(b); err == nil {
			t.Errorf("Decode(%s) succeeded", bad)
		}
	}
}

func TestParseFileCaps(t *testing.T) {
	tests := []struct {
		in   string
		want FileCaps
		text string // as getcap prints it back
	}{
		{"cap_net_bind_service+ep", FileCaps{Permitted: SetOf(NET_BIND_SERVICE), Effective: true, Version: 2}, "cap_net_bind_service=ep"},
		{"cap_net_bind_service=ep", FileCaps{Permitted: SetOf(NET_BIND_SERVICE), Effective: true, Version: 2}, "cap_net_bind_service=ep"},
		{"NET_RAW,CAP_NET_ADMIN=p", FileCaps{Permitted: SetOf(NET_RAW, NET_ADMIN), Version: 2}, "cap_net_admin,cap_net_raw=p"},
		{"cap_chown+ep cap_kill+eip", FileCaps{Permitted: SetOf(CHOWN, KILL), Inheritable: SetOf(KILL), Effective: true, Version: 2}, "cap_kill=eip cap_chown=ep"},
		{"cap_chown=eip cap_chown-i", FileCaps{Permitted: SetOf(CHOWN), Effective: true, Version: 2}, "cap_chown=ep"},
		{"=ep", FileCaps{Permitted: All(), Effective: true, Version: 2}, "=ep"},
		{"all=i", FileCaps{Inheritable: All(), Version: 2}, "=i"},
	}
	for _, tt := range tests {
		got, err := ParseFileCaps(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFileCaps(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if got.String() != tt.text {
			t.Errorf("ParseFileCaps(%q).String() = %q; want %q", tt.in, got.String(), tt.text)
		}
	}
	for _, bad := range []string{"", "cap_chown", "cap_chown+x", "cap_nope+ep", "cap_chown+ep cap_kill+p"} {
		if _, err := ParseFileCaps(bad); err == nil {
			t.Errorf("ParseFileCaps(%q) succeeded", bad)
		}
	}
	v3 := FileCaps{Permitted: SetOf(NET_RAW), Effective: true, Version: 3, RootID: 100000}
	if v3.String() != "cap_net_raw=ep [rootid=100000]" {
		t.Errorf("v3 String = %q", v3.String())
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		perm, inh, eff Set
		want           string
	}{
		{0, 0, 0, "="},
		{DockerDefault, 0, DockerDefault, DockerDefault.String() + "=ep"},
		{All(), 0, All(), "=ep"},
		{All() &^ SetOf(CHOWN), 0, All() &^ SetOf(CHOWN), "=ep cap_chown-ep"},
		{All() &^ SetOf(CHOWN, KILL), 0, 0, "=p cap_chown,cap_kill-p"},
		{SetOf(NET_BIND_SERVICE), SetOf(NET_BIND_SERVICE), SetOf(NET_BIND_SERVICE), "cap_net_bind_service=eip"},
		{SetOf(CHOWN, KILL), SetOf(KILL), SetOf(CHOWN), "cap_chown=ep cap_kill=ip"},
	}
	for _, tt := range tests {
		if got := Text(tt.perm, tt.inh, tt.eff); got != tt.want {
			t.Errorf("Text(%s, %s, %s) = %q; want %q", tt.perm.Hex(), tt.inh.Hex(), tt.eff.Hex(), got, tt.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := []byte("Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t42\n" +
		"Uid:\t1000\t1001\t1001\t1001\nGid:\t100\t101\t101\t101\nGroups:\t4 27 \n" +
		"CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n" +
		"CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n")
	st, err := ParseStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	want := &Status{PID: 42, Name: "sleep", UID: 1001, GID: 101, Groups: []int{4, 27},
		Permitted: DockerDefault, Effective: DockerDefault, Bounding: DockerDefault,
		Ambient: SetOf(NET_BIND_SERVICE), NoNewPrivs: true, Seccomp: 2, Filters: 1}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("ParseStatus = %+v\nwant %+v", st, want)
	}
	if _, err := ParseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("a status without Cap lines parsed")
	}
	self, err := ReadStatus(0)
	if err != nil || self.PID != os.Getpid() {
		t.Errorf("ReadStatus(self) = %+v, %v", self, err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		s    Set
		want string
	}{
		{0, "none"},
		{All(), "all"},
		{All() &^ SetOf(SYS_ADMIN), "all except cap_sys_admin"},
		{SetOf(CHOWN, KILL), "cap_chown,cap_kill"},
	}
	for _, tt := range tests {
		if got := Describe(tt.s); got != tt.want {
			t.Errorf("Describe(%s) = %q; want %q", tt.s.Hex(), got, tt.want)
		}
	}
}

func writeEtc(t *testing.T, passwd, group string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"passwd": passwd, "group": group} {
		if body == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLookupUser(t *testing.T) {
	root := writeEtc(t,
		"root:x:0:0:root:/root:/bin/sh\n# a comment\nalice:x:1000:1000::/home/alice:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n",
		"root:x:0:\nalice:x:1000:\naudio:x:29:alice,bob\nvideo:x:44:bob\nstaff:x:50:www,alice\n")
	tests := []struct {
		spec  string
		extra []string
		want  User
	}{
		// Docker's rule: the GID first, then the user's groups (only
		// without an explicit group), then --group-add, each once.
		{"alice", nil, User{UID: 1000, GID: 1000, Groups: []int{1000, 29, 50}, Home: "/home/alice", Name: "alice"}},
		{"1000", nil, User{UID: 1000, GID: 1000, Groups: []int{1000, 29, 50}, Home: "/home/alice", Name: "alice"}},
		{"alice:video", nil, User{UID: 1000, GID: 44, Groups: []int{44}, Home: "/home/alice", Name: "alice"}},
		{"alice:44", nil, User{UID: 1000, GID: 44, Groups: []int{44}, Home: "/home/alice", Name: "alice"}},
		{"alice:4242", nil, User{UID: 1000, GID: 4242, Groups: []int{4242}, Home: "/home/alice", Name: "alice"}},
		{"alice", []string{"1000", "audio"}, User{UID: 1000, GID: 1000, Groups: []int{1000, 29, 50}, Home: "/home/alice", Name: "alice"}},
		{"www", []string{"video", "77"}, User{UID: 33, GID: 33, Groups: []int{33, 50, 44, 77}, Home: "/var/www", Name: "www"}},
		{"5000", nil, User{UID: 5000, GID: 0, Groups: []int{0}, Home: "/"}},
		{"5000:5000", nil, User{UID: 5000, GID: 5000, Groups: []int{5000}, Home: "/"}},
		{"5000", []string{"video"}, User{UID: 5000, GID: 0, Groups: []int{0, 44}, Home: "/"}},
		{"root", nil, User{UID: 0, GID: 0, Groups: []int{0}, Home: "/root", Name: "root"}},
		{"0:0", nil, User{UID: 0, GID: 0, Groups: []int{0}, Home: "/root", Name: "root"}},
		{"", nil, User{UID: 0, GID: 0, Groups: []int{0}, Home: "/root", Name: "root"}}, // Docker's default user
	}
	for _, tt := range tests {
		got, err := LookupUser(root, tt.spec, tt.extra)
		if err != nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("LookupUser(%q, %v) = %+v, %v; want %+v", tt.spec, tt.extra, got, err, tt.want)
		}
	}
	for _, bad := range []struct{ spec, extra string }{{"bob", ""}, {"alice:nogroup", ""}, {":44", ""}, {"alice", "nogroup"}, {"-1", ""}} {
		var extra []string
		if bad.extra != "" {
			extra = []string{bad.extra}
		}
		if u, err := LookupUser(root, bad.spec, extra); err == nil {
			t.Errorf("LookupUser(%q, %v) = %+v; want an error", bad.spec, extra, u)
		}
	}
	// A root without /etc/passwd (a scratch image): numbers still work.
	empty := t.TempDir()
	if u, err := LookupUser(empty, "1234:5678", nil); err != nil || u.UID != 1234 || u.GID != 5678 {
		t.Errorf("LookupUser in an empty root = %+v, %v", u, err)
	}
	if _, err := LookupUser(empty, "nobody", nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte("unable to find user nobody")) {
		t.Errorf("LookupUser(nobody) in an empty root: %v", err)
	}
}
