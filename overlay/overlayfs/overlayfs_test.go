package overlayfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// writeFiles creates files (path → content) under dir; a path ending in
// "/" is a folder.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// box is one container's layout: two image layers and its own upper,
// work and merged folders.
type box struct {
	base, top, upper, work, merged string
}

// newImage makes the two lower layers of the lessons' image: a base layer
// and a top layer that replaces /etc/motd and adds /etc/issue.
func newImage(t testing.TB) (top, base string) {
	t.Helper()
	dir := t.TempDir()
	base, top = filepath.Join(dir, "base"), filepath.Join(dir, "top")
	writeFiles(t, base, map[string]string{
		"etc/motd":            "base motd\n",
		"etc/hosts":           "127.0.0.1 localhost\n",
		"var/cache/apt/pkg-a": "a\n",
		"var/cache/apt/pkg-b": "b\n",
		"var/cache/keep":      "keep\n",
		"tmp/":                "",
	})
	writeFiles(t, top, map[string]string{
		"etc/motd":  "top motd\n",
		"etc/issue": "Debian\n",
	})
	return top, base
}

// newBox mounts a container over the image's layers; the mount goes away
// with the test.
func newBox(t testing.TB, top, base string) box {
	t.Helper()
	dir := t.TempDir()
	b := box{base: base, top: top, upper: filepath.Join(dir, "upper"), work: filepath.Join(dir, "work"), merged: filepath.Join(dir, "merged")}
	for _, d := range []string{b.upper, b.work, b.merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mount(t, Options{Lower: []string{top, base}, Upper: b.upper, Work: b.work, Merged: b.merged})
	return b
}

func mount(t testing.TB, o Options) {
	t.Helper()
	undo, err := Mount(o, nil)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() {
		if err := undo(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func diffLines(t testing.TB, upper string, lower ...string) []string {
	t.Helper()
	changes, err := Diff(upper, lower)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, c.String())
	}
	return out
}

func wantLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

func TestMergedViewShowsTopLayerFirst(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	if got := readFile(t, filepath.Join(b.merged, "etc/motd")); got != "top motd\n" {
		t.Errorf("merged /etc/motd = %q, want the top layer's", got)
	}
	if got := readFile(t, filepath.Join(b.merged, "etc/hosts")); got != "127.0.0.1 localhost\n" {
		t.Errorf("merged /etc/hosts = %q, want the base layer's", got)
	}
	wantLines(t, "diff of an untouched container", diffLines(t, b.upper, b.top, b.base), nil)
}

func TestCopyUp(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	f, err := os.OpenFile(filepath.Join(b.merged, "etc/hosts"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "10.0.0.2 db")
	f.Close()

	if got := readFile(t, filepath.Join(b.upper, "etc/hosts")); got != "127.0.0.1 localhost\n10.0.0.2 db\n" {
		t.Errorf("upper /etc/hosts = %q, want the copied-up, edited file", got)
	}
	if got := readFile(t, filepath.Join(b.base, "etc/hosts")); got != "127.0.0.1 localhost\n" {
		t.Errorf("lower /etc/hosts changed to %q: lower layers must stay read-only", got)
	}
	wantLines(t, "diff", diffLines(t, b.upper, b.top, b.base), []string{"C /etc", "C /etc/hosts"})
}

func TestWhiteout(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	if err := os.Remove(filepath.Join(b.merged, "etc/issue")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(b.merged, "etc/issue")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("merged /etc/issue still there after rm: %v", err)
	}
	fi, err := os.Lstat(filepath.Join(b.upper, "etc/issue"))
	if err != nil {
		t.Fatalf("no whiteout in upper: %v", err)
	}
	if !IsWhiteout(fi) {
		t.Errorf("upper /etc/issue is %v, want a whiteout (character device 0/0)", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(b.top, "etc/issue")); err != nil {
		t.Errorf("lower /etc/issue gone: %v", err)
	}
	markers, err := Markers(b.upper)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Marker{{MarkerWhiteout, "/etc/issue"}}; !slices.Equal(markers, want) {
		t.Errorf("markers = %v, want %v", markers, want)
	}
	if got := markers[0].OCIName(); got != "etc/.wh.issue" {
		t.Errorf("OCI name = %q, want etc/.wh.issue", got)
	}
	wantLines(t, "diff", diffLines(t, b.upper, b.top, b.base), []string{"C /etc", "D /etc/issue"})
}

func TestOpaqueDir(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	// Replace /var/cache/apt: remove it with its contents, make it anew.
	apt := filepath.Join(b.merged, "var/cache/apt")
	if err := os.RemoveAll(apt); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, b.merged, map[string]string{"var/cache/apt/pkg-c": "c\n"})

	entries, err := os.ReadDir(apt)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "pkg-c" {
		t.Errorf("merged /var/cache/apt lists %v, want only pkg-c: the lower entries must be hidden", entries)
	}
	opaque, err := IsOpaque(filepath.Join(b.upper, "var/cache/apt"))
	if err != nil || !opaque {
		t.Errorf("upper /var/cache/apt opaque = %v, %v; want trusted.overlay.opaque=y", opaque, err)
	}
	markers, err := Markers(b.upper)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Marker{{MarkerOpaque, "/var/cache/apt"}}; !slices.Equal(markers, want) {
		t.Errorf("markers = %v, want %v", markers, want)
	}
	if got := markers[0].OCIName(); got != "var/cache/apt/.wh..wh..opq" {
		t.Errorf("OCI name = %q", got)
	}
	wantLines(t, "diff", diffLines(t, b.upper, b.top, b.base), []string{
		"C /var",
		"C /var/cache",
		"C /var/cache/apt",
		"D /var/cache/apt/pkg-a",
		"D /var/cache/apt/pkg-b",
		"A /var/cache/apt/pkg-c",
	})
}

// Some kernels mark a directory made in a merged directory opaque (a
// lookup shortcut): diff must still call it added, not deleted (Docker
// bug moby#37880). The marker is set by hand here, as such a kernel would.
func TestNewDirIsAdded(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	writeFiles(t, b.merged, map[string]string{"srv/app/run.sh": "#!/bin/sh\n", "tmp/x": "x"})
	if err := unix.Lsetxattr(filepath.Join(b.upper, "srv"), OpaqueXattr, []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	if opaque, err := IsOpaque(filepath.Join(b.upper, "srv")); !opaque || err != nil {
		t.Fatalf("IsOpaque after setting the marker = %v, %v", opaque, err)
	}
	wantLines(t, "diff", diffLines(t, b.upper, b.top, b.base), []string{
		"A /srv",
		"A /srv/app",
		"A /srv/app/run.sh",
		"C /tmp",
		"A /tmp/x",
	})
}

func TestTwoContainersShareLowers(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	c1, c2 := newBox(t, top, base), newBox(t, top, base)

	writeFiles(t, c1.merged, map[string]string{"etc/motd": "c1 was here\n"})
	if err := os.Remove(filepath.Join(c2.merged, "etc/hosts")); err != nil {
		t.Fatal(err)
	}

	if got := readFile(t, filepath.Join(c1.merged, "etc/motd")); got != "c1 was here\n" {
		t.Errorf("c1 /etc/motd = %q", got)
	}
	if got := readFile(t, filepath.Join(c2.merged, "etc/motd")); got != "top motd\n" {
		t.Errorf("c2 sees c1's write: /etc/motd = %q", got)
	}
	if got := readFile(t, filepath.Join(c1.merged, "etc/hosts")); got != "127.0.0.1 localhost\n" {
		t.Errorf("c1 lost /etc/hosts that c2 deleted: %q", got)
	}
	if got := readFile(t, filepath.Join(top, "etc/motd")); got != "top motd\n" {
		t.Errorf("shared lower changed: %q", got)
	}
	wantLines(t, "c1 diff", diffLines(t, c1.upper, top, base), []string{"C /etc", "C /etc/motd"})
	wantLines(t, "c2 diff", diffLines(t, c2.upper, top, base), []string{"C /etc", "D /etc/hosts"})
}

func TestReadOnly(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	merged := t.TempDir()
	mount(t, Options{Lower: []string{top, base}, Merged: merged, ReadOnly: true})

	if got := readFile(t, filepath.Join(merged, "etc/motd")); got != "top motd\n" {
		t.Errorf("/etc/motd = %q", got)
	}
	err := os.WriteFile(filepath.Join(merged, "etc/new"), nil, 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("write into a read-only overlay: %v, want EROFS", err)
	}
	l, err := Inspect(merged, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Lower, []string{top, base}) || l.Upper != "" || l.Work != "" {
		t.Errorf("inspect = %+v", l)
	}
}

// A file present in all 200 layers shows the topmost layer's version,
// whichever system calls mount it.
func TestManyLayers(t *testing.T) {
	testenv.Integration(t)
	for _, method := range []Method{MethodFsconfig, MethodMount} {
		t.Run(string(method), func(t *testing.T) {
			skipWithoutLowerdirPlus(t, method)
			testenv.NoNewMounts(t)
			lower := digestLayers(t, 200)
			dir := t.TempDir()
			o := Options{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"),
				Merged: filepath.Join(dir, "merged"), Method: method, LinkDir: filepath.Join(dir, "l")}
			for _, d := range []string{o.Upper, o.Work, o.Merged} {
				os.Mkdir(d, 0o755)
			}
			if n := len(optionString(o, "lowerdir", lower)); n < pageSize() {
				t.Fatalf("test layers too short: the option string (%d bytes) fits a page", n)
			}
			mount(t, o)

			if got := readFile(t, filepath.Join(o.Merged, "version")); got != "layer 200\n" {
				t.Errorf("merged /version = %q, want the topmost layer's, \"layer 200\\n\"", got)
			}
			if got := readFile(t, filepath.Join(o.Merged, "only-in-base")); got != "base\n" {
				t.Errorf("merged /only-in-base = %q", got)
			}
			l, err := Inspect(o.Merged, o.LinkDir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Lower, lower) {
				t.Errorf("inspect gives %d lower dirs, first %q; want the 200 layers top-first", len(l.Lower), l.Lower[0])
			}
		})
	}
}

// digestLayers makes n layers in folders named like an image store's
// (sha256/<64 hex>), returned top-first; every layer holds /version, the
// base layer also /only-in-base.
func digestLayers(t testing.TB, n int) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layers", "sha256")
	var baseFirst []string
	for i := 1; i <= n; i++ {
		l := filepath.Join(dir, fmt.Sprintf("%064x", i))
		files := map[string]string{"version": fmt.Sprintf("layer %d\n", i)}
		if i == 1 {
			files["only-in-base"] = "base\n"
		}
		writeFiles(t, l, files)
		baseFirst = append(baseFirst, l)
	}
	return TopFirst(baseFirst)
}

func TestUnmountBusy(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	b := newBox(t, top, base)

	sleeper := exec.Command("sleep", "60")
	sleeper.Dir = b.merged
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	err := Unmount(b.merged, nil)
	sleeper.Process.Kill()
	sleeper.Wait()
	if err == nil {
		t.Fatal("unmount of a busy overlay succeeded")
	}
	var he *Error
	if !strings.Contains(err.Error(), "busy") || !errors.As(err, &he) || !strings.Contains(he.Hint, "fuser") {
		t.Errorf("error = %v; want it to say busy, with a fuser hint", err)
	}
	// The mount is still there; the test's cleanup unmounts it now that
	// nothing holds it.
	if _, err := Inspect(b.merged, ""); err != nil {
		t.Errorf("mount gone after a refused unmount: %v", err)
	}
}

func TestUnmountNotOverlay(t *testing.T) {
	testenv.Integration(t)
	if err := Unmount(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "not a mount point") {
		t.Errorf("unmount of a plain folder: %v", err)
	}
}

// Each of the kernel's rules gives its own error, with a hint, and leaves
// nothing mounted.
func TestRules(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	top, base := newImage(t)
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(p, 0o755)
		return p
	}
	upper, work, merged := mk("upper"), mk("work"), mk("merged")
	full := mk("full")
	writeFiles(t, full, map[string]string{"leftover": "x"})
	nested := mk("upper2/work")

	// A tmpfs: a work dir on another mount than the upper dir.
	tmpfs := mk("tmpfs")
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(tmpfs, 0) })
	// An overlay, to put an upper dir on.
	ov := newBox(t, top, base)
	onOverlay := filepath.Join(ov.merged, "upper")
	os.Mkdir(onOverlay, 0o755)

	many := make([]string, MaxLowerLayers+1)
	for i := range many {
		many[i] = base
	}
	lower := []string{top, base}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no lower", Options{Upper: upper, Work: work, Merged: merged}, "no lower dir"},
		{"missing lower", Options{Lower: []string{filepath.Join(dir, "nope")}, Upper: upper, Work: work, Merged: merged}, "lower dir " + filepath.Join(dir, "nope") + ": no such directory"},
		{"missing merged", Options{Lower: lower, Upper: upper, Work: work, Merged: filepath.Join(dir, "nope")}, "merged dir (the mount point) " + filepath.Join(dir, "nope") + ": no such directory"},
		{"missing upper", Options{Lower: lower, Upper: filepath.Join(dir, "nope"), Work: work, Merged: merged}, "upper dir " + filepath.Join(dir, "nope") + ": no such directory"},
		{"no work", Options{Lower: lower, Upper: upper, Merged: merged}, "needs an upper dir and a work dir"},
		{"work not empty", Options{Lower: lower, Upper: upper, Work: full, Merged: merged}, "is not empty"},
		{"work on another mount", Options{Lower: lower, Upper: upper, Work: tmpfs, Merged: merged}, "are on different mounts"},
		{"work inside upper", Options{Lower: lower, Upper: filepath.Join(dir, "upper2"), Work: nested, Merged: merged}, "neither inside the other"},
		{"upper on overlay", Options{Lower: lower, Upper: onOverlay, Work: filepath.Join(ov.merged, "tmp"), Merged: merged}, "is on an overlay filesystem"},
		{"upper in use", Options{Lower: lower, Upper: ov.upper, Work: work, Merged: merged}, "already in use by the overlay mounted on " + ov.merged},
		{"merged already mounted", Options{Lower: lower, Upper: upper, Work: work, Merged: ov.merged}, "an overlay is already mounted on " + ov.merged},
		{"read-only on a mounted overlay", Options{Lower: lower, Merged: ov.merged, ReadOnly: true}, "an overlay is already mounted on " + ov.merged},
		{"lower is upper", Options{Lower: []string{upper}, Upper: upper, Work: work, Merged: merged}, "is also the upper or work dir"},
		{"read-only with upper", Options{Lower: lower, Upper: upper, Work: work, Merged: merged, ReadOnly: true}, "has no upper or work dir"},
		{"read-only, one layer", Options{Lower: []string{base}, Merged: merged, ReadOnly: true}, "needs at least 2 lower dirs"},
		{"too many layers", Options{Lower: many, Upper: upper, Work: work, Merged: merged}, "the kernel stacks at most 500"},
		{"empty layer in list", Options{Lower: []string{top, "", base}, Upper: upper, Work: work, Merged: merged}, "lower dir 2 of 3 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			undo, err := Mount(tt.o, nil)
			if err == nil {
				undo()
				t.Fatalf("mount succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			var he *Error
			if !errors.As(err, &he) || he.Hint == "" {
				t.Errorf("error %q has no hint", err)
			}
		})
	}
}

// The kernel's own reason, read from the fsopen context, reaches the
// error; where the kernel logs it to dmesg instead, the hint says so.
func TestKernelMessage(t *testing.T) {
	testenv.Integration(t)
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fsfd)
	err = unix.FsconfigSetString(fsfd, "no-such-option", "x")
	if err == nil {
		t.Skipf("overlay on this kernel (%s) takes its options the legacy way (before Linux 6.5): an unknown one is refused only at create, with the reason in dmesg", kernelRelease())
	}
	err = fsconfigError(fsfd, Options{Merged: "/m"}, "set option", err)
	if want := "mount overlay on /m: set option: invalid argument (kernel: overlay: Unknown parameter 'no-such-option')"; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	err = fsconfigError(fsfd, Options{Merged: "/m"}, "create the overlay", unix.EINVAL)
	var he *Error
	if !errors.As(err, &he) || !strings.Contains(he.Hint, "dmesg") {
		t.Errorf("error without a kernel message = %q, want a hint pointing to dmesg", err)
	}
}

// Paths with the characters overlay's option parser splits on (',' ':')
// and mountinfo escapes (' ') survive the mount and come back from Inspect.
func TestInspectOddPaths(t *testing.T) {
	testenv.Integration(t)
	for _, method := range []Method{MethodFsconfig, MethodMount} {
		t.Run(string(method), func(t *testing.T) {
			skipWithoutLowerdirPlus(t, method)
			testenv.NoNewMounts(t)
			dir := t.TempDir()
			o := Options{
				Lower:  []string{filepath.Join(dir, "layer two,b"), filepath.Join(dir, "layer:one")},
				Upper:  filepath.Join(dir, "up per"),
				Work:   filepath.Join(dir, "work,x"),
				Merged: filepath.Join(dir, "mer ged"),
				Method: method,
			}
			writeFiles(t, o.Lower[0], map[string]string{"two": "2"})
			writeFiles(t, o.Lower[1], map[string]string{"one": "1"})
			for _, d := range []string{o.Upper, o.Work, o.Merged} {
				os.Mkdir(d, 0o755)
			}
			mount(t, o)
			if readFile(t, filepath.Join(o.Merged, "one")) != "1" || readFile(t, filepath.Join(o.Merged, "two")) != "2" {
				t.Error("merged view lacks a layer's file")
			}
			l, err := Inspect(o.Merged, "")
			if err != nil {
				t.Fatal(err)
			}
			want := Layers{Lower: o.Lower, Upper: o.Upper, Work: o.Work, Merged: o.Merged}
			if !slices.Equal(l.Lower, want.Lower) || l.Upper != want.Upper || l.Work != want.Work || l.Merged != want.Merged {
				t.Errorf("inspect = %+v\nwant      %+v", *l, want)
			}
		})
	}
}

// skipWithoutLowerdirPlus skips a subtest of the new mount API on a kernel
// whose overlay has no lowerdir+ (before Linux 6.8), where mini-docker
// uses classic mount(2) and its short links instead.
func skipWithoutLowerdirPlus(t *testing.T, method Method) {
	t.Helper()
	if method == MethodFsconfig && !HasLowerdirPlus() {
		t.Skipf("overlay on this kernel (%s) has no lowerdir+ (Linux 6.8+): only classic mount(2) runs here", kernelRelease())
	}
}

func kernelRelease() string {
	var u unix.Utsname
	unix.Uname(&u)
	return unix.ByteSliceToString(u.Release[:])
}

// TestVolatile: with Volatile, the kernel shows the option on the mount
// (both methods), and the merged view works as without it.
func TestVolatile(t *testing.T) {
	for _, method := range []Method{MethodFsconfig, MethodMount} {
		t.Run(string(method), func(t *testing.T) {
			skipWithoutLowerdirPlus(t, method)
			testenv.NoNewMounts(t)
			dir := t.TempDir()
			o := Options{Lower: []string{filepath.Join(dir, "l1")}, Upper: filepath.Join(dir, "upper"),
				Work: filepath.Join(dir, "work"), Merged: filepath.Join(dir, "merged"), Method: method, Volatile: true}
			writeFiles(t, o.Lower[0], map[string]string{"a": "1"})
			for _, d := range []string{o.Upper, o.Work, o.Merged} {
				os.Mkdir(d, 0o755)
			}
			mount(t, o)
			if err := os.WriteFile(filepath.Join(o.Merged, "b"), []byte("2"), 0o644); err != nil {
				t.Fatal(err)
			}
			if readFile(t, filepath.Join(o.Merged, "a")) != "1" || readFile(t, filepath.Join(o.Upper, "b")) != "2" {
				t.Error("merged view or upper layer wrong")
			}
			b, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) > 4 && f[4] == o.Merged {
					if !strings.Contains(l, "volatile") {
						t.Errorf("mount of %s has no volatile option: %s", o.Merged, l)
					}
					return
				}
			}
			t.Fatalf("%s is not in mountinfo", o.Merged)
		})
	}
}
