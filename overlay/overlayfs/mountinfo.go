package overlayfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mini-docker/internal/mountinfo"
)

// mountinfoPath is the mount table of the calling process's mount
// namespace (proc(5)).
const mountinfoPath = "/proc/self/mountinfo"

// Layers are the folders of one mounted overlay, as the kernel reports them.
type Layers struct {
	Lower  []string // top-first, as in the lowerdir option
	Upper  string   // empty for a read-only overlay
	Work   string   // empty for a read-only overlay
	Merged string   // the mount point
}

// Inspect reads back the layers of the overlay mounted on merged from
// /proc/self/mountinfo: the kernel shows an overlay's lowerdir, upperdir
// and workdir among its superblock options. Lower layers mounted through
// short links (classic mount(2) from inside linkDir) are shown by the
// kernel as the bare link names; they are resolved through linkDir when
// it is given.
func Inspect(merged, linkDir string) (*Layers, error) {
	abs, err := filepath.Abs(merged)
	if err != nil {
		return nil, err
	}
	m, err := findMount(mountinfoPath, abs)
	if err != nil {
		return nil, err
	}
	if m.FSType != "overlay" {
		return nil, fmt.Errorf("inspect %s: it is a %s mount, not an overlay", abs, m.FSType)
	}
	l := parseOverlayOptions(m.Super)
	l.Merged = m.Point
	l.resolveLinks(linkDir)
	return l, nil
}

// resolveLinks replaces short link names (relative lower dirs) by the
// layers they point to in linkDir.
func (l *Layers) resolveLinks(linkDir string) {
	if linkDir == "" {
		return
	}
	for i, dir := range l.Lower {
		if !filepath.IsAbs(dir) {
			if target, err := os.Readlink(filepath.Join(linkDir, dir)); err == nil {
				l.Lower[i] = target
			}
		}
	}
}

// findMount returns the topmost mount on mountPoint (the last one listed:
// later mounts stack on earlier ones).
func findMount(table, mountPoint string) (*mountinfo.Mount, error) {
	entries, err := readMountinfo(table)
	if err != nil {
		return nil, err
	}
	if resolved, err := filepath.EvalSymlinks(mountPoint); err == nil {
		mountPoint = resolved
	}
	var found *mountinfo.Mount
	for i := range entries {
		if entries[i].Point == mountPoint {
			found = &entries[i]
		}
	}
	if found == nil {
		return nil, &Error{Err: fmt.Errorf("%s is not a mount point", mountPoint),
			Hint: "give the merged dir of a mounted overlay (see: grep overlay /proc/self/mountinfo)"}
	}
	return found, nil
}

// overlayMounts returns the layers of every overlay in the mount table.
func overlayMounts(table string) ([]*Layers, error) {
	entries, err := readMountinfo(table)
	if err != nil {
		return nil, err
	}
	var out []*Layers
	for _, e := range entries {
		if e.FSType == "overlay" {
			l := parseOverlayOptions(e.Super)
			l.Merged = e.Point
			out = append(out, l)
		}
	}
	return out, nil
}

// readMountinfo reads a mount table (mountinfoPath, or a test's file).
func readMountinfo(path string) ([]mountinfo.Mount, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return mountinfo.Parse(string(b)), nil
}

// parseOverlayOptions reads lowerdir (a ':' list), lowerdir+ (one per
// layer, new mount API), upperdir and workdir from an overlay's superblock
// options. The kernel writes ',' '=' ' ' '\' inside a value as octal
// escapes (\054 ...), so splitting on ',' is safe; inside a classic
// lowerdir list, a ':' or ',' that is part of a path keeps overlay's own
// backslash escape.
func parseOverlayOptions(opts string) *Layers {
	l := &Layers{}
	for _, opt := range strings.Split(opts, ",") {
		key, val, _ := strings.Cut(opt, "=")
		val = mountinfo.Unescape(val)
		switch key {
		case "lowerdir":
			for _, d := range splitEscaped(val, ':') {
				l.Lower = append(l.Lower, unescapeBackslash(d))
			}
		case "lowerdir+":
			l.Lower = append(l.Lower, val)
		case "upperdir":
			l.Upper = unescapeBackslash(val)
		case "workdir":
			l.Work = unescapeBackslash(val)
		}
	}
	return l
}

// splitEscaped splits s on sep, except where sep follows a backslash.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescapeBackslash drops overlay's escaping backslashes ("\:" → ":").
func unescapeBackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FindByUpper returns the layers of the mounted overlay whose upper dir is
// upper (an absolute path), or nil when no overlay uses it. Short link
// names are resolved through linkDir, as in Inspect.
func FindByUpper(upper, linkDir string) (*Layers, error) {
	mounts, err := overlayMounts(mountinfoPath)
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if m.Upper == upper {
			m.resolveLinks(linkDir)
			return m, nil
		}
	}
	return nil, nil
}
