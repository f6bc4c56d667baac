package jail

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestShmBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"64m", 64 << 20, true},
		{"65536k", 64 << 20, true},
		{"1G", 1 << 30, true},
		{"4096", 4096, true},
		{"100b", 100, true},
		{"", 0, false},
		{"0", 0, false},
		{"-1m", 0, false},
		{"64mb", 64 << 20, true}, // Docker takes it too
		{"lots", 0, false},
	}
	for _, c := range cases {
		got, err := ShmBytes(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ShmBytes(%q) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestMountArgv(t *testing.T) {
	cases := []struct {
		source, target, fstype string
		flags                  uintptr
		data                   string
		want                   string
	}{
		{"proc", "/r/proc", "proc", nosuidNoexecNodev, "", "mount -t proc -o nosuid,nodev,noexec proc /r/proc"},
		{"/a", "/r/b", "", unix.MS_BIND, "", "mount --bind /a /r/b"},
		{"/a", "/r/b", "", unix.MS_BIND | unix.MS_REC, "", "mount --rbind /a /r/b"},
		{"tmpfs", "/r/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755", "mount -t tmpfs -o nosuid,strictatime,mode=755 tmpfs /r/dev"},
	}
	for _, c := range cases {
		got := strings.Join(mountArgv(c.source, c.target, c.fstype, c.flags, c.data), " ")
		if got != c.want {
			t.Errorf("mountArgv = %q, want %q", got, c.want)
		}
	}
}

func TestDockerOptions(t *testing.T) {
	var o Options
	o.Docker()
	if !(o.Proc && o.Dev && o.Devpts && o.Mqueue && o.Sys && o.Cgroupfs) || o.Shm != "64m" {
		t.Errorf("Docker() should turn on every default mount with a 64m /dev/shm: %+v", o)
	}
	if len(o.Mask) != len(DockerMaskedPaths) || len(o.ReadonlyPaths) != len(DockerReadonlyPaths) {
		t.Errorf("Docker() masked/read-only paths: %v %v", o.Mask, o.ReadonlyPaths)
	}
}

func TestSplitPathOrigin(t *testing.T) {
	got := splitPath([]string{"$ORIGIN/../lib:/opt/lib", "${ORIGIN}"}, "/app/bin")
	want := []string{"/app/bin/../lib", "/opt/lib", "/app/bin"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitPath = %v, want %v", got, want)
	}
}

func TestLdSoConfIncludes(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ld.so.conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "ld.so.conf"), []byte("# comment\n/first\ninclude ld.so.conf.d/*.conf\nhwcap 0 nosegneg\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ld.so.conf.d", "a.conf"), []byte("/from/a # trailing\n\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ld.so.conf.d", "b.conf"), []byte("/from/b\n"), 0o644)
	got := ldSoConfDirs(filepath.Join(dir, "ld.so.conf"), 0)
	want := []string{"/first", "/from/a", "/from/b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ldSoConfDirs = %v, want %v", got, want)
	}
}

// TestPrepareShell copies /bin/sh and checks that the loader named by
// its PT_INTERP and every DT_NEEDED library are in the jail, reachable
// through the recreated links.
func TestPrepareShell(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jail")
	made, err := Prepare(root, []string{"/bin/sh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(made) == 0 {
		t.Fatal("Prepare reported nothing made")
	}
	f, err := elf.Open("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	interp, _ := interpreter(f)
	needed, _ := f.ImportedLibraries()
	if interp == "" {
		t.Skip("/bin/sh is static here")
	}
	// Stat follows the links inside the jail (relative ones), as the
	// loader will after chroot; absolute links are resolved in the jail too.
	for _, p := range append([]string{"/bin/sh", interp}, needed...) {
		if !strings.HasPrefix(p, "/") {
			lib, err := findLibrary(p, "/bin/sh", f)
			if err != nil {
				t.Fatal(err)
			}
			p = lib
		}
		if _, err := os.Stat(resolveIn(t, root, p)); err != nil {
			t.Errorf("%s missing in the jail: %v", p, err)
		}
	}
}

// TestPrepareStaysInRoot: a link already in the rootfs pointing out of it
// (absolute) must not make Prepare write on the host.
func TestPrepareStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "usr"))
	if _, err := Prepare(root, []string{"/usr/bin/true"}, nil); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("Prepare wrote outside the root through a planted link: %v", entries)
	}
}

func TestPrepareErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := Prepare(root, []string{"no-such-binary-anywhere"}, nil); err == nil || !strings.Contains(err.Error(), "PATH") {
		t.Errorf("want a not-in-PATH error, got %v", err)
	}
	if _, err := Prepare(root, []string{"/nonexistent/bin"}, nil); err == nil {
		t.Error("want an error for a missing file")
	}
}

// resolveIn resolves p inside root the way the kernel will after chroot.
func resolveIn(t *testing.T, root, p string) string {
	t.Helper()
	cur := root
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for hops := 0; len(parts) > 0 && hops < 40; hops++ {
		next := filepath.Join(cur, parts[0])
		parts = parts[1:]
		target, err := os.Readlink(next)
		if err != nil {
			cur = next
			continue
		}
		if filepath.IsAbs(target) {
			cur = root
		}
		parts = append(strings.Split(strings.Trim(target, "/"), "/"), parts...)
	}
	return cur
}

// TestOrdinaryDir: a kernel filesystem's mount point must be a real
// directory of the rootfs, reached through no symlink (runc's "must be
// mounted on ordinary directory"); a missing one is fine (it is made).
func TestOrdinaryDir(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "etc"), 0o755)
	os.Symlink("/etc", filepath.Join(root, "proc"))
	os.Symlink("etc", filepath.Join(root, "dev"))
	os.WriteFile(filepath.Join(root, "sys"), nil, 0o644)
	os.MkdirAll(filepath.Join(root, "run", "real"), 0o755)
	os.Symlink("real", filepath.Join(root, "run", "link"))
	for _, c := range []struct {
		target, want string
	}{
		{"/proc", `filesystem "proc" must be mounted on ordinary directory (the image's /proc is a symlink to /etc)`},
		{"/dev", `(the image's /dev is a symlink to etc)`},
		{"/sys", `(the image's /sys is not a directory)`},
		{"/sys/fs/cgroup", `(the image's /sys is not a directory)`},
		{"/run/link/x", `(the image's /run/link is a symlink to real)`},
		{"/run/real/x", ""},
		{"/mnt/new", ""},
		{"/etc", ""},
		// ".." stops at the root, as in the container: never the host's.
		{"/../../escape/deeper", ""},
		{"../etc/x", ""},
	} {
		got, _, err := ordinaryDir(root, c.target, "proc")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ordinaryDir(%s): %v", c.target, err)
		case c.want == "" && got != filepath.Join(root, filepath.Clean("/"+c.target)):
			t.Errorf("ordinaryDir(%s) = %s", c.target, got)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("ordinaryDir(%s) = %q, %v; want an error with %q", c.target, got, err, c.want)
		}
	}
}
