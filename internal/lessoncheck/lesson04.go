package lessoncheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0401 are exercise 04.1's checks.
func checks0401(s *State) []Check {
	d := s.Path("wh")
	return []Check{
		{What: "wh/lower/gone.txt is a file of the lower layer", Cmd: "ls -l " + d + "/lower/gone.txt",
			Hint: "mkdir -p wh/lower wh/upper wh/work wh/merged && echo bye > wh/lower/gone.txt",
			Test: func() error { _, err := nonEmpty(d + "/lower/gone.txt"); return err }},
		{What: "wh/upper/gone.txt is a whiteout: a character device 0:0", Cmd: "stat -c '%F %t:%T' " + d + "/upper/gone.txt",
			Hint: "mknod wh/upper/gone.txt c 0 0 (before mounting: the upper layer is not to be changed under a mounted overlay)",
			Test: func() error { return isWhiteout(d + "/upper/gone.txt") }},
		overlayMounted(d),
		{What: "wh/merged/gone.txt is hidden", Cmd: "ls " + d + "/merged",
			Hint: "the whiteout hides the lower file only in the merged view: ls wh/merged",
			Test: func() error { return absent(d + "/merged/gone.txt") }},
	}
}

// checks0402 are exercise 04.2's checks.
func checks0402(s *State) []Check {
	d := s.Path("op")
	return []Check{
		{What: "op/lower/dir holds files", Cmd: "ls " + d + "/lower/dir",
			Hint: "mkdir -p op/lower/dir op/upper/dir op/work op/merged && touch op/lower/dir/old1 op/lower/dir/old2",
			Test: func() error { return hasEntries(d + "/lower/dir") }},
		{What: "op/upper/dir is opaque (trusted.overlay.opaque=y)", Cmd: "getfattr -n trusted.overlay.opaque " + d + "/upper/dir",
			Hint: "setfattr -n trusted.overlay.opaque -v y op/upper/dir (and put a file of its own in it: touch op/upper/dir/new)",
			Test: func() error { return xattrIs(d+"/upper/dir", "trusted.overlay.opaque", "y") }},
		overlayMounted(d),
		{What: "op/merged/dir shows the upper's files and none of the lower's", Cmd: "ls " + d + "/merged/dir",
			Hint: "an opaque directory hides everything below it: only op/upper/dir's files show",
			Test: func() error { return onlyUpper(d+"/lower/dir", d+"/upper/dir", d+"/merged/dir") }},
	}
}

// overlayMounted checks that DIR/merged is an overlay of DIR/lower under
// DIR/upper.
func overlayMounted(d string) Check {
	b := filepath.Base(d)
	return Check{What: b + "/merged is an overlay of " + b + "/lower with " + b + "/upper on top", Cmd: "findmnt -o FSTYPE,OPTIONS " + d + "/merged",
		Hint: fmt.Sprintf("mount -t overlay overlay -o lowerdir=%[1]s/lower,upperdir=%[1]s/upper,workdir=%[1]s/work %[1]s/merged", b),
		Test: func() error {
			m, err := probe.MountAt(d + "/merged")
			if err != nil {
				return err
			}
			if m.FSType != "overlay" {
				return fmt.Errorf("it is a %s mount", m.FSType)
			}
			if up := probe.OptValue(m.Super, "upperdir"); up != d+"/upper" {
				return fmt.Errorf("its upperdir is %q", up)
			}
			if lo := probe.OptValue(m.Super, "lowerdir"); lo != "" && lo != d+"/lower" {
				return fmt.Errorf("its lowerdir is %q", lo)
			}
			return nil
		}}
}

// isWhiteout checks for overlayfs's whiteout: a character device whose
// device number is 0:0.
func isWhiteout(path string) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return probe.NotThere(&os.PathError{Op: "lstat", Path: path, Err: err})
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("%s is not a character device", path)
	}
	if st.Rdev != 0 {
		return fmt.Errorf("%s is device %d:%d, not 0:0", path, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	return nil
}

// absent checks that nothing is at path.
func absent(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is there", path)
	}
	return nil
}

// hasEntries checks that a directory exists and is not empty.
func hasEntries(dir string) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return probe.NotThere(err)
	}
	if len(es) == 0 {
		return fmt.Errorf("%s is empty", dir)
	}
	return nil
}

// xattrIs checks an extended attribute of path (not following links).
func xattrIs(path, name, want string) error {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(path, name, buf)
	if errors.Is(err, syscall.ENODATA) {
		return fmt.Errorf("%s has no %s", path, name)
	}
	if err != nil {
		return probe.NotThere(&os.PathError{Op: "getxattr", Path: path, Err: err})
	}
	if got := string(buf[:n]); got != want {
		return fmt.Errorf("%s is %q", name, got)
	}
	return nil
}

// onlyUpper checks that merged lists upper's entries and none of lower's.
func onlyUpper(lower, upper, merged string) error {
	names := func(dir string) (map[string]bool, error) {
		es, err := os.ReadDir(dir)
		if err != nil {
			return nil, probe.NotThere(err)
		}
		m := map[string]bool{}
		for _, e := range es {
			m[e.Name()] = true
		}
		return m, nil
	}
	lo, err := names(lower)
	if err != nil {
		return err
	}
	up, err := names(upper)
	if err != nil {
		return err
	}
	me, err := names(merged)
	if err != nil {
		return err
	}
	if len(up) == 0 {
		return fmt.Errorf("%s is empty: put a file of its own in it", upper)
	}
	for n := range me {
		if lo[n] && !up[n] {
			return fmt.Errorf("%s shows %s from the lower layer", merged, n)
		}
	}
	for n := range up {
		if !me[n] {
			return fmt.Errorf("%s does not show %s", merged, n)
		}
	}
	return nil
}
