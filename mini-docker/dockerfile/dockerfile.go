// Package dockerfile runs a Dockerfile the way Docker's classic builder does:
// each instruction starts from the image the previous one made, changes
// it (a container for RUN, files for COPY, the config for the rest) and
// commits a new image. A cache keyed on the parent image and the
// instruction (plus the content of copied files) lets an unchanged step
// reuse the image it made last time: "Using cache".
//
// The Dockerfile is read by BuildKit's own parser package, the one
// docker build uses, so what Docker accepts parses the same. Several
// FROMs make a multi-stage build: COPY --from=STAGE copies from an
// earlier stage's image, mounted as a container's root would be
// (stages.go); only the last stage (or --target's) is tagged.
//
// Lesson 11 (lessons/11-images.md) teaches it.
package dockerfile

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Instruction is one instruction of a Dockerfile (continuations joined),
// as BuildKit's own parser reads it.
type Instruction struct {
	Line     int    // where it starts in the file (1-based)
	Cmd      string // upper case: RUN, COPY, ...
	Original string // the text as written, continuations joined
	Args     string // everything after the instruction word and its flags
	Flags    []string
	JSON     []string // the exec form ["a", "b"], when the arguments are one
	IsJSON   bool
	// Heredocs are the here-documents (<<EOF ... EOF) that follow a RUN,
	// COPY or ADD line, in order.
	Heredocs []parser.Heredoc
	// Trigger is ONBUILD's instruction, parsed.
	Trigger *Instruction
}

// known are the instructions this builder runs.
var known = map[string]bool{
	"FROM": true, "RUN": true, "COPY": true, "ADD": true, "ENV": true, "ARG": true, "WORKDIR": true,
	"USER": true, "EXPOSE": true, "LABEL": true, "CMD": true, "ENTRYPOINT": true, "MAINTAINER": true,
	"STOPSIGNAL": true, "VOLUME": true, "SHELL": true, "HEALTHCHECK": true, "ONBUILD": true,
}

// takesFlags are the instructions with --flags before their arguments.
var takesFlags = map[string]bool{"FROM": true, "RUN": true, "COPY": true, "ADD": true, "HEALTHCHECK": true}

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

// Parse reads a Dockerfile with BuildKit's parser (the one docker build
// uses: parser directives such as "# escape=`", continuations, comments
// inside them, heredocs, the JSON and shell forms), then checks each
// instruction word against the ones this builder runs.
func Parse(text string) ([]Instruction, error) {
	res, err := parser.Parse(strings.NewReader(text))
	if err != nil {
		line := 1
		var le *parser.LocationError
		if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
			line = max(le.Locations[0][0].Start.Line, 1)
		}
		return nil, &ParseError{line, errors.Unwrap(err).Error()}
	}
	var out []Instruction
	for _, n := range res.AST.Children {
		in, err := fromNode(n, res.EscapeToken)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
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

// fromNode turns one node of the parser's tree into an Instruction.
func fromNode(n *parser.Node, escape rune) (Instruction, error) {
	cmd := strings.ToUpper(n.Value)
	if !known[cmd] {
		return Instruction{}, &ParseError{n.StartLine, fmt.Sprintf("unknown instruction: %s", strings.TrimSpace(n.Original))}
	}
	in := Instruction{Line: n.StartLine, Cmd: cmd, Original: n.Original, Flags: n.Flags, Heredocs: n.Heredocs}
	if _, rest, ok := cutCommand(n.Original); ok {
		in.Args = strings.TrimSpace(afterFlags(rest, escape))
	}
	if len(n.Flags) > 0 && !takesFlags[cmd] {
		return Instruction{}, &ParseError{n.StartLine, fmt.Sprintf("unknown flag: %s", n.Flags[0])}
	}
	var words []string
	for v := n.Next; v != nil; v = v.Next {
		words = append(words, v.Value)
	}
	if n.Attributes["json"] {
		in.JSON, in.IsJSON = words, true
	}
	if cmd == "ONBUILD" && n.Next != nil && len(n.Next.Children) == 1 {
		t, err := fromNode(n.Next.Children[0], escape)
		if err != nil {
			return Instruction{}, err
		}
		switch t.Cmd {
		case "ONBUILD", "FROM", "MAINTAINER":
			return Instruction{}, &ParseError{n.StartLine, fmt.Sprintf("%s isn't allowed as an ONBUILD trigger", t.Cmd)}
		}
		t.Line = n.StartLine
		in.Trigger = &t
	}
	if in.Args == "" && cmd != "RUN" && cmd != "CMD" && cmd != "ENTRYPOINT" {
		return Instruction{}, &ParseError{n.StartLine, fmt.Sprintf("%s requires at least one argument", cmd)}
	}
	return in, nil
}

// cutCommand splits a line into its instruction word and the rest, where
// BuildKit splits it: at the first run of tab, vertical tab, form feed,
// carriage return or space, after trimming the line. A line that is one
// word has no rest.
func cutCommand(line string) (word, rest string, ok bool) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, "\t\v\f\r ")
	if i < 0 {
		return line, "", false
	}
	return line[:i], strings.TrimLeft(line[i:], "\t\v\f\r "), true
}

// afterFlags returns what follows an instruction's flags, read the way
// BuildKit reads them: leading words that start with "--" are flags
// (quotes group, the escape character escapes, inside quotes too), and a
// word that reads "--" once unquoted ends them. So `COPY --chown="a b" x y`
// leaves "x y", and `CMD -- []` leaves "[]": the args BuildKit parsed.
// Spaces are read a byte at a time, as BuildKit reads them, so a lone
// byte 0x85 or 0xA0 separates words too.
func afterFlags(s string, escape rune) string {
	for {
		for len(s) > 0 && isSpaceByte(s[0]) {
			s = s[1:]
		}
		if !strings.HasPrefix(s, "--") {
			return s
		}
		end, word := firstWord(s, escape)
		s = s[end:]
		if word == "--" {
			return s
		}
	}
}

// firstWord returns the index just past the first word of s (the first
// space outside quotes) and the word with its quotes and escapes removed.
func firstWord(s string, escape rune) (int, string) {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && isSpaceByte(c):
			return i, b.String()
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case rune(c) == escape:
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return len(s), b.String()
}

// isSpaceByte reports whether BuildKit's flag reader takes the byte c for
// a space: it converts each byte, not each character, to a rune.
func isSpaceByte(c byte) bool { return unicode.IsSpace(rune(c)) }

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
