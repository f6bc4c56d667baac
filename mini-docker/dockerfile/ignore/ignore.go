// Package ignore reads .dockerignore, the filter of a build's context
// (lesson 11 builds images): the files of a build context that COPY
// never sees and the context's size does not count.
// Each line is a pattern of path elements (* and ? within one element,
// ** across any number); a line starting with ! takes an earlier match
// back; the last matching line decides.
package ignore

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Matcher holds the patterns of one .dockerignore.
type Matcher struct {
	rules []rule
}

type rule struct {
	pattern string
	re      *regexp.Regexp
	negate  bool
}

// Load reads CONTEXT/.dockerignore (none: nothing ignored).
func Load(ctxDir string) (*Matcher, error) {
	f, err := os.Open(filepath.Join(ctxDir, ".dockerignore"))
	if os.IsNotExist(err) {
		return &Matcher{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads the lines of a .dockerignore: blank lines and # comments
// are skipped, each pattern is cleaned as a path (a leading / dropped),
// as Docker reads it: one that climbs out of the context (../x) matches
// nothing.
func Parse(r io.Reader) (*Matcher, error) {
	m := &Matcher{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(line, "!")
		if line = filepath.Clean(line); len(line) > 1 && line[0] == '/' {
			line = line[1:]
		}
		re, err := globRegexp(line)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: pattern %q: %w", line, err)
		}
		m.rules = append(m.rules, rule{line, re, neg})
	}
	return m, sc.Err()
}

// globRegexp turns a .dockerignore pattern into a regexp: * and ? stay
// within one path element, ** crosses any number of them. Other bytes
// are copied as they are, so a name's UTF-8 stays whole.
func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
				b.WriteString("/?")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Ignored reports whether the context path rel ("src/a.go") is excluded:
// the last rule matching it or one of its parent folders decides.
func (m *Matcher) Ignored(rel string) bool {
	ignored := false
	for _, r := range m.rules {
		for p := rel; p != "." && p != "/" && p != ""; p = filepath.Dir(p) {
			if r.re.MatchString(p) {
				ignored = !r.negate
				break
			}
		}
	}
	return ignored
}

// KeepsBelow reports whether an exception (a ! line) may take back a
// path below the excluded folder dir ("!dir/keep" below "dir"): a walk
// of the context must then go into dir, as Docker's does, and see each
// file, instead of skipping the folder whole.
func (m *Matcher) KeepsBelow(dir string) bool {
	if m == nil {
		return false
	}
	for _, r := range m.rules {
		if r.negate && strings.HasPrefix(r.pattern+"/", dir+"/") {
			return true
		}
	}
	return false
}

// ContextSize is the size of what `docker build` would send of dir.
func ContextSize(dir string, m *Matcher) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." && m.Ignored(rel) {
			if d.IsDir() && !m.KeepsBelow(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
