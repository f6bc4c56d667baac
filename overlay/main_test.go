package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mini-docker/internal/testenv"
	"mini-docker/overlay/internal/mountns"
	"mini-docker/overlay/overlayfs"
)

func TestMain(m *testing.M) { mountns.Main(m, testenv.Main) }

// scene is a folder with two image layers (l1 base, l2 top) and one
// container's upper, work and merged folders; paths are relative to dir.
func scene(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"l1/etc/motd":        "base\n",
		"l1/etc/hosts":       "127.0.0.1 localhost\n",
		"l1/var/cache/apt/a": "a\n",
		"l2/etc/motd":        "top\n",
		"l2/etc/issue":       "Debian\n",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"upper", "work", "merged"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	return dir
}

// overlay runs the built tool in dir and returns its output and exit code.
func overlay(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Bin(t, "overlay"), args...)
	cmd.Dir = dir
	return testenv.RunCmd(t, cmd)
}

func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, code := overlay(t, dir, args...)
	if code != 0 {
		t.Fatalf("overlay %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func TestMountDiffInspectUmount(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	dir := scene(t)
	mustRun(t, dir, "mount", "--lower", "l2:l1", "--upper", "upper", "--work", "work", "merged")
	mounted := true
	t.Cleanup(func() {
		if mounted {
			overlay(t, dir, "umount", "merged")
		}
	})

	m := filepath.Join(dir, "merged")
	os.WriteFile(filepath.Join(m, "etc/motd"), []byte("edited\n"), 0o644) // copy-up
	os.Remove(filepath.Join(m, "etc/issue"))                              // whiteout
	os.RemoveAll(filepath.Join(m, "var/cache/apt"))                       // opaque dir
	os.Mkdir(filepath.Join(m, "var/cache/apt"), 0o755)
	os.WriteFile(filepath.Join(m, "var/cache/apt/b"), nil, 0o644)

	wantDiff := "C /etc\nD /etc/issue\nC /etc/motd\nC /var\nC /var/cache\nC /var/cache/apt\nD /var/cache/apt/a\nA /var/cache/apt/b\n"
	if out := mustRun(t, dir, "diff", "merged"); out != wantDiff {
		t.Errorf("diff merged:\n%s\nwant:\n%s", out, wantDiff)
	}
	if out := mustRun(t, dir, "diff", "upper"); out != wantDiff {
		t.Errorf("diff upper (lowers from the mount table):\n%s\nwant:\n%s", out, wantDiff)
	}
	wantMarkers := "whiteout /etc/issue                     etc/.wh.issue\n" +
		"opaque   /var/cache/apt                 var/cache/apt/.wh..wh..opq\n"
	if out := mustRun(t, dir, "markers", "upper"); out != wantMarkers {
		t.Errorf("markers:\n%s\nwant:\n%s", out, wantMarkers)
	}
	wantInspect := fmt.Sprintf(`{
    "GraphDriver": {
        "Data": {
            "LowerDir": "%[1]s/l2:%[1]s/l1",
            "MergedDir": "%[1]s/merged",
            "UpperDir": "%[1]s/upper",
            "WorkDir": "%[1]s/work"
        },
        "Name": "overlay"
    }
}
`, dir)
	if out := mustRun(t, dir, "inspect", "merged"); out != wantInspect {
		t.Errorf("inspect:\n%s\nwant:\n%s", out, wantInspect)
	}

	// Busy: a process working inside the merged folder holds the mount.
	sleeper := exec.Command("sleep", "60")
	sleeper.Dir = m
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	out, code := overlay(t, dir, "umount", "merged")
	sleeper.Process.Kill()
	sleeper.Wait()
	want := fmt.Sprintf("overlay: error: unmount %[1]s: the mount is busy: a process still has its working directory or an open file in it: device or resource busy\n"+
		"overlay: hint: find it with 'fuser -vm %[1]s', stop it, then retry\n", m)
	if code != 125 || out != want {
		t.Errorf("umount of a busy mount: exit %d\n%s\nwant exit 125\n%s", code, out, want)
	}

	mustRun(t, dir, "umount", "merged")
	mounted = false
	// The upper layer outlives the mount: diff still works with --lower.
	if out := mustRun(t, dir, "diff", "--lower", "l2:l1", "upper"); out != wantDiff {
		t.Errorf("diff --lower after umount:\n%s\nwant:\n%s", out, wantDiff)
	}
}

func TestReadOnlyMount(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	dir := scene(t)
	mustRun(t, dir, "mount", "--readonly", "--lower", "l2", "--lower", "l1", "merged")
	defer mustRun(t, dir, "umount", "merged")
	err := os.WriteFile(filepath.Join(dir, "merged/new"), nil, 0o644)
	if err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("write into a read-only overlay: %v", err)
	}
	out := mustRun(t, dir, "inspect", "merged")
	if strings.Contains(out, "UpperDir") || !strings.Contains(out, fmt.Sprintf(`"LowerDir": "%[1]s/l2:%[1]s/l1"`, dir)) {
		t.Errorf("inspect of a read-only overlay:\n%s", out)
	}
}

// --explain prints each step before doing it: with classic mount(2) and a
// link folder, the links, the cd and the mount.
func TestExplain(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	dir := scene(t)

	cmd := exec.Command(testenv.Bin(t, "overlay"), "--explain", "mount", "--lower", "l2:l1", "--upper", "upper", "--work", "work", "merged")
	cmd.Dir = dir
	out, code := testenv.RunCmd(t, cmd)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	want := fmt.Sprintf("# new mount API: fsopen(\"overlay\"), fsconfig(\"lowerdir+\") once per layer (2), fsconfig(\"upperdir\"), fsconfig(\"workdir\"), fsconfig(CMD_CREATE), fsmount, move_mount\n"+
		"+ mount -t overlay overlay -o lowerdir+=%[1]s/l2,lowerdir+=%[1]s/l1,upperdir=%[1]s/upper,workdir=%[1]s/work %[1]s/merged\n", dir)
	if !overlayfs.HasLowerdirPlus() {
		// Before Linux 6.8: classic mount(2), one lowerdir list.
		want = fmt.Sprintf("+ mount -t overlay overlay -o lowerdir=%[1]s/l2:%[1]s/l1,upperdir=%[1]s/upper,workdir=%[1]s/work %[1]s/merged\n", dir)
	}
	if out != want {
		t.Errorf("--explain mount:\n%s\nwant:\n%s", out, want)
	}
	out = mustRun(t, dir, "--explain", "umount", "merged")
	if want := fmt.Sprintf("+ umount %s/merged\n", dir); out != want {
		t.Errorf("--explain umount: %q, want %q", out, want)
	}

	// Classic mount(2) with 60 long layer paths: past one page, so short links.
	var lowers []string
	for i := range 60 {
		l := filepath.Join(dir, "layers", "sha256", fmt.Sprintf("%064x", i))
		os.MkdirAll(l, 0o755)
		lowers = append(lowers, l)
	}
	links := filepath.Join(dir, "links")
	out = mustRun(t, dir, "--explain", "mount", "--method", "mount", "--links", links,
		"--lower", strings.Join(lowers, ":"), "--upper", "upper", "--work", "work", "merged")
	defer mustRun(t, dir, "umount", "merged")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 62 || !strings.HasPrefix(lines[0], "+ ln -s "+lowers[0]+" "+links+"/") ||
		lines[60] != "+ cd "+links || !strings.HasPrefix(lines[61], "+ mount -t overlay overlay -o lowerdir=") {
		t.Errorf("--explain with short links: want 60 ln -s, cd, mount; got:\n%s", out)
	}
	// inspect resolves the short links back to the layers.
	out = mustRun(t, dir, "inspect", "--links", links, "merged")
	if !strings.Contains(out, `"LowerDir": "`+strings.Join(lowers, ":")+`"`) {
		t.Errorf("inspect did not resolve the short links:\n%s", out)
	}
	// So does diff; without the link folder it cannot, and says so.
	os.WriteFile(filepath.Join(dir, "merged", "new"), nil, 0o644)
	if out := mustRun(t, dir, "diff", "--links", links, "merged"); out != "A /new\n" {
		t.Errorf("diff --links: %q, want \"A /new\\n\"", out)
	}
	out, code = overlay(t, dir, "diff", "--links", filepath.Join(dir, "elsewhere"), "merged")
	if code != 125 || !strings.Contains(out, "is not an absolute path") || !strings.Contains(out, "--links") {
		t.Errorf("diff without the link folder: exit %d\n%s", code, out)
	}
}

func TestErrors(t *testing.T) {
	testenv.Integration(t)
	testenv.NoNewMounts(t)
	dir := scene(t)
	os.WriteFile(filepath.Join(dir, "work/junk"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "work2"), 0o755)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "overlay: error: no command given\noverlay: hint: see 'overlay --help'\n"},
		{"no merged", []string{"mount", "--lower", "l1", "--upper", "upper", "--work", "work2"},
			"overlay: error: want exactly one MERGED dir, got 0 arguments\noverlay: hint: see 'overlay mount --help'\n"},
		{"no lower", []string{"mount", "--upper", "upper", "--work", "work2", "merged"},
			"overlay: error: missing --lower DIR[:DIR...]\noverlay: hint: see 'overlay mount --help'\n"},
		{"missing lower", []string{"mount", "--lower", "l2:nope", "--upper", "upper", "--work", "work2", "merged"},
			fmt.Sprintf("overlay: error: lower dir %[1]s/nope: no such directory\noverlay: hint: create it first: mkdir -p %[1]s/nope\n", dir)},
		{"work not empty", []string{"mount", "--lower", "l2:l1", "--upper", "upper", "--work", "work", "merged"},
			fmt.Sprintf("overlay: error: work dir %s/work is not empty: it holds \"junk\"\noverlay: hint: give an empty folder as --work (the kernel keeps its scratch files there)\n", dir)},
		{"umount no mount", []string{"umount", "merged"},
			fmt.Sprintf("overlay: error: %s/merged is not a mount point\noverlay: hint: give the merged dir of a mounted overlay (see: grep overlay /proc/self/mountinfo)\n", dir)},
		{"inspect no mount", []string{"inspect", "merged"},
			fmt.Sprintf("overlay: error: %s/merged is not a mount point\noverlay: hint: give the merged dir of a mounted overlay (see: grep overlay /proc/self/mountinfo)\n", dir)},
		{"bad method", []string{"mount", "--method", "magic", "--lower", "l2:l1", "--upper", "upper", "--work", "work2", "merged"},
			"overlay: error: unknown mount method \"magic\" (want \"fsconfig\" or \"mount\")\n"},
		{"unknown command", []string{"frobnicate"}, "overlay: error: unknown command \"frobnicate\"\noverlay: hint: see 'overlay --help'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := overlay(t, dir, tt.args...)
			if tt.name == "no command" {
				out = out[strings.Index(out, "overlay: error"):] // after the usage text
			}
			if code != 125 || out != tt.want {
				t.Errorf("exit %d\n%s\nwant exit 125\n%s", code, out, tt.want)
			}
		})
	}
}

func TestHelpSaysTopFirst(t *testing.T) {
	out := mustRun(t, t.TempDir(), "mount", "--help")
	if !strings.Contains(out, "TOP-FIRST") || !strings.Contains(out, "Examples:") {
		t.Errorf("mount --help must say lower dirs go top-first and show examples:\n%s", out)
	}
}
