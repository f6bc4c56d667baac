// Package lessonrun checks the workshop's lessons: it runs every command
// of a lesson's `console` blocks in one shell and compares what each
// prints with the output the lesson shows. The format is described in
// lessons/README.md.
package lessonrun

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Lesson is a parsed lesson file.
type Lesson struct {
	Path    string
	Steps   []Step // from `console` blocks, in order
	Cleanup []Step // from `console cleanup` blocks, run at the end
	// Requires lists what the lesson needs beyond the toolkit, from a
	// line `<!-- requires: docker -->` (only "docker" is known).
	Requires []string
}

// Step is one command and the output the lesson expects from it.
type Step struct {
	Line     int    // line of the `$ ` in the file (1-based)
	Command  string // the command, continuation lines joined with newlines
	Expected []string
	// Host is its block's host condition (```console host=cgroup-v2):
	// the step runs only on a host where it holds.
	Host Cond
	// Exercise is the exercise whose worked solution (or cleanup) the
	// step belongs to, from ```console exercise=03.2 in
	// lessons/exercises/; "" for a lesson's own steps.
	Exercise string
}

// ParseFile reads and parses a lesson.
func ParseFile(path string) (*Lesson, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(b))
}

// Parse parses lesson text; path is used in messages only.
func Parse(path, text string) (*Lesson, error) {
	p := &parser{l: &Lesson{Path: path}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1024*1024), 1024*1024)
	for sc.Scan() {
		p.lineNo++
		var err error
		if p.state == outside {
			err = p.outsideLine(strings.TrimSpace(sc.Text()))
		} else {
			err = p.blockLine(sc.Text())
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, p.lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if p.state != outside {
		return nil, fmt.Errorf("%s: a code block is not closed", path)
	}
	return p.l, nil
}

// Where the parser stands: outside any code block, in a block it does
// not run, in a console block of steps, in a cleanup block.
const (
	outside = iota
	ignored
	running
	cleanup
)

// parser reads a lesson line by line.
type parser struct {
	l          *Lesson
	state      int
	lineNo     int
	fence      string  // the open block's fence, ``` or ~~~
	cur        *Step   // the step being read
	dest       *[]Step // where it goes: the steps or the cleanup steps
	cond       Cond    // the current block's host condition
	exercise   string  // the current block's exercise=ID
	continuing bool    // the last command line ended in a backslash
}

// outsideLine reads a line outside code blocks: a requirement comment or
// a block's opening fence.
func (p *parser) outsideLine(trimmed string) error {
	if rest, ok := strings.CutPrefix(trimmed, "<!-- requires:"); ok {
		reqs, err := parseRequires(rest)
		p.l.Requires = append(p.l.Requires, reqs...)
		return err
	}
	if !strings.HasPrefix(trimmed, "```") && !strings.HasPrefix(trimmed, "~~~") {
		return nil
	}
	p.fence = trimmed[:3]
	info := strings.Fields(strings.TrimLeft(trimmed, "`~"))
	if len(info) == 0 || info[0] != "console" {
		p.state = ignored
		return nil
	}
	opts, err := parseBlockOptions(info[1:])
	if err != nil {
		return err
	}
	p.state, p.dest, p.cond, p.exercise = running, &p.l.Steps, opts.host, opts.exercise
	switch {
	case opts.skip:
		p.state = ignored
	case opts.cleanup:
		p.state, p.dest = cleanup, &p.l.Cleanup
	}
	return nil
}

// blockLine reads a line inside a code block: its closing fence, a
// command ("$ "), its continuation, or the output it expects.
func (p *parser) blockLine(line string) error {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, p.fence) && strings.Trim(trimmed, p.fence[:1]) == "" {
		if p.continuing {
			return fmt.Errorf("block ends in the middle of a continued command")
		}
		if p.state != ignored {
			p.flush()
		}
		p.state = outside
		return nil
	}
	if p.state == ignored {
		return nil
	}
	switch {
	case p.continuing:
		p.cur.Command += "\n" + line
		p.continuing = strings.HasSuffix(line, `\`)
	case strings.HasPrefix(line, "$ "):
		p.flush()
		p.cur = &Step{Line: p.lineNo, Command: line[2:], Host: p.cond, Exercise: p.exercise}
		p.continuing = strings.HasSuffix(line, `\`)
	case p.cur == nil:
		if trimmed != "" {
			return fmt.Errorf("output line before any command in a console block: %q", line)
		}
	default:
		p.cur.Expected = append(p.cur.Expected, line)
	}
	return nil
}

// flush ends the current step, without the blank lines at its end.
func (p *parser) flush() {
	if p.cur == nil {
		return
	}
	for len(p.cur.Expected) > 0 && strings.TrimSpace(p.cur.Expected[len(p.cur.Expected)-1]) == "" {
		p.cur.Expected = p.cur.Expected[:len(p.cur.Expected)-1]
	}
	*p.dest = append(*p.dest, *p.cur)
	p.cur = nil
}

// parseRequires reads the list of a <!-- requires: ... --> comment.
func parseRequires(rest string) ([]string, error) {
	var out []string
	for _, r := range strings.Fields(strings.TrimSuffix(rest, "-->")) {
		r = strings.Trim(r, ",")
		if r != "docker" {
			return nil, fmt.Errorf("unknown requirement %q (known: docker)", r)
		}
		out = append(out, r)
	}
	return out, nil
}

// blockOptions are the words after "console" on a block's opening fence.
type blockOptions struct {
	skip, cleanup bool
	host          Cond
	exercise      string // exercise=ID: the block belongs to that exercise
}

func parseBlockOptions(words []string) (blockOptions, error) {
	var o blockOptions
	for _, opt := range words {
		var err error
		switch text, isHost := strings.CutPrefix(opt, "host="); {
		case opt == "skip":
			o.skip = true
		case opt == "cleanup":
			o.cleanup = true
		case isHost:
			o.host, err = ParseCond(text)
		case strings.HasPrefix(opt, "exercise="):
			o.exercise, err = parseExerciseID(strings.TrimPrefix(opt, "exercise="))
		default:
			err = fmt.Errorf("unknown console block option %q (want skip, cleanup, host=COND or exercise=ID)", opt)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

// Wildcards are written {{*}}, {{n}} and {{hex}} inside a line; a line
// that is just "..." matches any number of lines.
var wildcard = regexp.MustCompile(`\{\{(\*|n|hex)\}\}`)

// lineMatcher turns one expected line into a matcher.
func lineMatcher(expected string) func(string) bool {
	expected = strings.TrimRight(expected, " \t")
	if !wildcard.MatchString(expected) {
		return func(s string) bool { return s == expected }
	}
	var re strings.Builder
	re.WriteString("^")
	last := 0
	for _, m := range wildcard.FindAllStringSubmatchIndex(expected, -1) {
		re.WriteString(regexp.QuoteMeta(expected[last:m[0]]))
		switch expected[m[2]:m[3]] {
		case "*":
			re.WriteString(".*")
		case "n":
			re.WriteString("[0-9]+")
		case "hex":
			re.WriteString("[0-9a-fA-F]+")
		}
		last = m[1]
	}
	re.WriteString(regexp.QuoteMeta(expected[last:]))
	re.WriteString("$")
	rx := regexp.MustCompile(re.String())
	return rx.MatchString
}

// Match reports whether actual output lines match the expected lines,
// with the wildcards above. Trailing spaces are ignored on both sides.
func Match(expected, actual []string) bool {
	act := make([]string, len(actual))
	for i, a := range actual {
		act[i] = strings.TrimRight(a, " \t\r")
	}
	type pat struct {
		any bool
		m   func(string) bool
	}
	pats := make([]pat, len(expected))
	for i, e := range expected {
		if strings.TrimSpace(e) == "..." {
			pats[i] = pat{any: true}
		} else {
			pats[i] = pat{m: lineMatcher(e)}
		}
	}
	// memo[i][j]: does pats[i:] match act[j:]?
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(pats):
			r = j == len(act)
		case pats[i].any:
			r = match(i+1, j) || (j < len(act) && match(i, j+1))
		default:
			r = j < len(act) && pats[i].m(act[j]) && match(i+1, j+1)
		}
		memo[key] = r
		return r
	}
	return match(0, 0)
}

// Diff renders expected and actual output for a failure message, marking
// the first line where they part.
func Diff(expected, actual []string) string {
	var b strings.Builder
	first := -1
	for i := 0; i < len(expected) && i < len(actual); i++ {
		e := strings.TrimSpace(expected[i])
		if e == "..." || !lineMatcher(expected[i])(strings.TrimRight(actual[i], " \t\r")) {
			first = i
			break
		}
	}
	if first < 0 {
		first = min(len(expected), len(actual))
	}
	// Each side in full, the first line that differs marked.
	for _, side := range []struct {
		title string
		lines []string
	}{{"--- expected (lesson)", expected}, {"+++ actual", actual}} {
		b.WriteString(side.title + "\n")
		for i, l := range side.lines {
			mark := "  "
			if i == first {
				mark = "> "
			}
			b.WriteString(mark + l + "\n")
		}
	}
	return b.String()
}
