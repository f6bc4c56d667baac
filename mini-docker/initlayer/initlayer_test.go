package initlayer

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"mini-docker/internal/explain"
)

// list is every path under dir with its kind, sorted.
func list(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		kind := "file"
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			kind = "-> " + target
		case fi.IsDir():
			kind = "dir"
		}
		out = append(out, rel+" "+kind+" "+fi.Mode().Perm().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// Done when: the shared init layer holds Docker's entries, made once;
// starts that make it at the same moment all see it whole, and nothing
// of their attempts is left beside it.
func TestMakeSharedOnceAndWhole(t *testing.T) {
	root := t.TempDir()
	dir := Shared(root)
	if dir != filepath.Join(root, "init") {
		t.Fatalf("Shared(%s) = %s", root, dir)
	}

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = Make(dir, nil); errs[i] == nil {
				// Whoever returns finds the layer whole.
				if _, err := os.Lstat(filepath.Join(dir, "etc/mtab")); err != nil {
					errs[i] = err
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		".dockerenv file -rwxr-xr-x",
		"dev dir -rwxr-xr-x",
		"dev/console file -rwxr-xr-x",
		"dev/pts dir -rwxr-xr-x",
		"dev/shm dir -rwxr-xr-x",
		"etc dir -rwxr-xr-x",
		"etc/hostname file -rwxr-xr-x",
		"etc/hosts file -rwxr-xr-x",
		"etc/mtab -> /proc/mounts -rwxrwxrwx",
		"etc/resolv.conf file -rwxr-xr-x",
		"proc dir -rwxr-xr-x",
		"sys dir -rwxr-xr-x",
	}
	if got := list(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the layer holds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the layer's folder: %v %v, want mode 0755", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Errorf("the root holds %v, want the layer only", ents)
	}
}

// Done when: --explain prints the layer's making as commands on its
// final path the first time, and a note the next time, when nothing is
// made.
func TestMakeExplains(t *testing.T) {
	dir := Shared(t.TempDir())
	var b strings.Builder
	if err := Make(dir, explain.New(&b)); err != nil {
		t.Fatal(err)
	}
	first := b.String()
	for _, want := range []string{"+ mkdir -p " + dir + "/dev/pts ", "+ ln -sf /proc/mounts " + dir + "/etc/mtab\n"} {
		if !strings.Contains(first, want) {
			t.Errorf("--explain of the first Make lacks %q:\n%s", want, first)
		}
	}
	if strings.Contains(first, ".init-") {
		t.Errorf("--explain prints the folder the layer is written in, not the layer's path:\n%s", first)
	}
	b.Reset()
	if err := Make(dir, explain.New(&b)); err != nil {
		t.Fatal(err)
	}
	if want := "# " + dir + ": the init layer, made by an earlier start\n"; b.String() != want {
		t.Errorf("--explain of the second Make: %q, want %q", b.String(), want)
	}
}
