// Package dockerfile runs a Dockerfile the way Docker's classic builder does:
// each instruction starts from the image the previous one made, changes
// it (a container for RUN, files for COPY, the config for the rest) and
// commits a new image. A cache keyed on the parent image and the
// instruction (plus the content of copied files) lets an unchanged step
// reuse the image it made last time: "Using cache".
//
// Lesson 11 (lessons/11-images.md) teaches it.
package dockerfile

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Instruction is one line of a Dockerfile (continuations joined).
type Instruction struct {
	Line     int    // where it starts in the file (1-based)
	Cmd      string // upper case: RUN, COPY, ...
	Original string // the text as written, continuations joined
	Args     string // everything after the instruction word
	Flags    []string
	JSON     []string // the exec form ["a", "b"], when the arguments are one
	IsJSON   bool
}

// known are the instructions this builder runs.
var known = map[string]bool{
	"FROM": true, "RUN": true, "COPY": true, "ADD": true, "ENV": true, "ARG": true, "WORKDIR": true,
	"USER": true, "EXPOSE": true, "LABEL": true, "CMD": true, "ENTRYPOINT": true, "MAINTAINER": true,
	"STOPSIGNAL": true, "VOLUME": true, "SHELL": true,
}

// ParseError is a Dockerfile error with its line, as Docker words it.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("Dockerfile parse error line %d: %s", e.Line, e.Msg)
}

// ParseFile reads and parses a Dockerfile.
func ParseFile(path string) ([]Instruction, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	return Parse(string(b))
}

// Parse splits a Dockerfile into instructions: comments and blank lines
// dropped, lines ending in a backslash joined with the next, the first
// word checked against the instructions we know.
func Parse(text string) ([]Instruction, error) {
	var out []Instruction
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			line = strings.TrimSuffix(line, "\\")
			// Comment and empty lines inside a continued instruction are dropped.
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i+1]), "#")) {
				i++
			}
			if i+1 < len(lines) {
				i++
				line += " " + strings.TrimSpace(lines[i])
			}
		}
		line = strings.TrimSpace(strings.TrimSuffix(line, "\\"))
		word, rest, _ := strings.Cut(line, " ")
		if w, r, ok := strings.Cut(line, "\t"); ok && len(w) < len(word) {
			word, rest = w, r
		}
		cmd := strings.ToUpper(word)
		if !known[cmd] {
			return nil, &ParseError{start, fmt.Sprintf("unknown instruction: %s", line)}
		}
		ins := Instruction{Line: start, Cmd: cmd, Original: line, Args: strings.TrimSpace(rest)}
		// Flags (--chown=, --from=) come first, for the instructions that take them.
		for (cmd == "COPY" || cmd == "ADD" || cmd == "RUN" || cmd == "FROM") && strings.HasPrefix(ins.Args, "--") {
			f, r, _ := strings.Cut(ins.Args, " ")
			ins.Flags = append(ins.Flags, f)
			ins.Args = strings.TrimSpace(r)
		}
		if strings.HasPrefix(ins.Args, "[") {
			var arr []string
			if json.Unmarshal([]byte(ins.Args), &arr) == nil {
				ins.JSON, ins.IsJSON = arr, true
			}
		}
		if ins.Args == "" && cmd != "RUN" && cmd != "CMD" && cmd != "ENTRYPOINT" {
			return nil, &ParseError{start, fmt.Sprintf("%s requires at least one argument", cmd)}
		}
		out = append(out, ins)
	}
	if len(out) == 0 {
		return nil, &ParseError{1, "file with no instructions"}
	}
	first := 0
	for first < len(out) && out[first].Cmd == "ARG" {
		first++
	}
	if first == len(out) || out[first].Cmd != "FROM" {
		return nil, &ParseError{out[min(first, len(out)-1)].Line, "no build stage in current context: the first instruction must be FROM"}
	}
	return out, nil
}

// Expand replaces $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} with
// values from vars (ENV and ARG), as the builder does for FROM, COPY,
// ENV, WORKDIR, USER, EXPOSE, LABEL. A backslash escapes a dollar sign.
func Expand(s string, vars func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			name, word, op := expr, "", ""
			if k := strings.Index(expr, ":-"); k >= 0 {
				name, word, op = expr[:k], expr[k+2:], "-"
			} else if k := strings.Index(expr, ":+"); k >= 0 {
				name, word, op = expr[:k], expr[k+2:], "+"
			}
			v, ok := vars(name)
			switch {
			case op == "-" && (!ok || v == ""):
				v = Expand(word, vars)
			case op == "+" && ok && v != "":
				v = Expand(word, vars)
			case op == "+":
				v = ""
			}
			b.WriteString(v)
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte(c)
			continue
		}
		v, _ := vars(s[i+1 : j])
		b.WriteString(v)
		i = j - 1
	}
	return b.String()
}

// Words splits s at spaces, keeping quoted parts ("a b", 'a b') together
// and removing the quotes: ENV and LABEL's key=value lists.
func Words(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	in, quote, had := false, byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				c = s[i]
			}
			b.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in, had = c, true, true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, b.String())
				b.Reset()
				in, had = false, false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unmatched quote in %q", s)
	}
	if in || had {
		out = append(out, b.String())
	}
	return out, nil
}

// KeyValues parses ENV and LABEL arguments: "K=V K2=V2", or the old
// one-pair form "K V with spaces".
func KeyValues(args string) ([][2]string, error) {
	words, err := Words(args)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("missing KEY=VALUE")
	}
	if !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(strings.TrimSpace(args), " ")
		vw, err := Words(strings.TrimSpace(v))
		if err != nil {
			return nil, err
		}
		return [][2]string{{k, strings.Join(vw, " ")}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
