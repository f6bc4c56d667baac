package mountinfo

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`:  "/mnt/a b",
		`/mnt/tab\011`: "/mnt/tab\t", // an escape at the very end
		`back\134x`:    `back\x`,
		`odd\09`:       `odd\09`, // not three octal digits: kept
		`\777`:         `\777`,   // over a byte: kept
		`plain`:        "plain",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzUnescape: never longer than its input, and the identity on text
// without a backslash.
func FuzzUnescape(f *testing.F) {
	f.Add(`/a\040b`)
	f.Add(`\`)
	f.Fuzz(func(t *testing.T, s string) {
		got := Unescape(s)
		if len(got) > len(s) || (!strings.Contains(s, `\`) && got != s) {
			t.Fatalf("Unescape(%q) = %q", s, got)
		}
	})
}

// TestParse: the fields by place, with and without optional fields,
// paths unescaped and the super options as written; lines without the
// shape are left out.
func TestParse(t *testing.T) {
	text := `22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw
35 31 0:32 /docker/1 /sys/fs/cgroup/my\040memory rw,relatime - cgroup cgroup rw,memory
90 80 0:50 / /c/merged rw master:1 shared:2 - overlay overlay rw,lowerdir=/l/a\054b:/l/c,upperdir=/u
91 80 0:51 / /no/super rw - tmpfs tmpfs
too short - x y z
92 80 0:52 / /no/source rw - tmpfs
`
	want := []Mount{
		{Root: "/", Point: "/sys", Opts: "rw,nosuid", FSType: "sysfs", Source: "sysfs", Super: "rw"},
		{Root: "/docker/1", Point: "/sys/fs/cgroup/my memory", Opts: "rw,relatime", FSType: "cgroup", Source: "cgroup", Super: "rw,memory"},
		{Root: "/", Point: "/c/merged", Opts: "rw", FSType: "overlay", Source: "overlay", Super: `rw,lowerdir=/l/a\054b:/l/c,upperdir=/u`},
		{Root: "/", Point: "/no/super", Opts: "rw", FSType: "tmpfs", Source: "tmpfs"},
	}
	got := Parse(text)
	if len(got) != len(want) {
		t.Fatalf("Parse: %d mounts, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestReadSelf: the caller's own table has a root mount.
func TestReadSelf(t *testing.T) {
	points, err := MountPoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if p == "/" {
			return
		}
	}
	t.Errorf("no mount at / among %q", points)
}

// TestIsMountRootAgreesWithTheTable: statx's answer is the mount
// table's, for /, for a folder, for the same folder with a tmpfs on it,
// and after its umount.
func TestIsMountRootAgreesWithTheTable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	check := func(path string, want bool) {
		t.Helper()
		if got := IsMountRoot(path); got != want {
			t.Errorf("IsMountRoot(%s) = %v, want %v", path, got, want)
		}
		if got := IsMountPoint(path); got != want {
			t.Errorf("IsMountPoint(%s) = %v, want %v (the table)", path, got, want)
		}
	}
	check("/", true)
	check(dir, false)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	check(dir, true)
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	check(dir, false)
}

// FuzzParse: no input makes Parse fail or return more mounts than lines;
// a well-formed line built from the input's words comes back field by
// field.
func FuzzParse(f *testing.F) {
	f.Add("22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n", "/a\\040b", "ext4")
	f.Add("- - - - - - - -\n", "/", "-")
	f.Fuzz(func(t *testing.T, text, point, fstype string) {
		if n := len(Parse(text)); n > strings.Count(text, "\n")+1 {
			t.Fatalf("%d mounts from %q", n, text)
		}
		if point == "" || fstype == "" || fstype == "-" || strings.IndexFunc(point+fstype, unicode.IsSpace) >= 0 || !utf8.ValidString(point+fstype) {
			return
		}
		got := Parse("1 2 3:4 / " + point + " rw - " + fstype + " src opts\n")
		want := Mount{Root: "/", Point: Unescape(point), Opts: "rw", FSType: fstype, Source: "src", Super: "opts"}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("Parse of one line = %+v, want %+v", got, want)
		}
	})
}
