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
	shlex "github.com/moby/buildkit/frontend/dockerfile/shell"
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
	// Words are the arguments as BuildKit's parser split them, quotes and
	// $ as written: ENV and LABEL's key, value, separator triples, FROM,
	// EXPOSE and COPY's words; each is expanded on its own (Word).
	Words []string
	// Escape is the Dockerfile's escape character (\ or # escape=`).
	Escape rune
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
	in.Words, in.Escape = words, escape
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

// Vars is what a Dockerfile's $NAME reads: ENV, then ARG.
type Vars func(name string) (string, bool)

// Get and Keys make Vars BuildKit's shell.EnvGetter.
func (v Vars) Get(name string) (string, bool) { return v(name) }

// Keys lists no names: the lexer asks only for the ones it meets.
func (v Vars) Keys() []string { return nil }

// Word expands one word of an instruction as Docker's builder does, with
// BuildKit's shell lexer: $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}
// and the other forms it knows; quotes are taken off ('...' keeps a $ as
// written, "..." expands it), and escape (\, or ` with # escape=`)
// keeps the next character as it is. An unclosed ${ is an error.
func Word(s string, escape rune, vars Vars) (string, error) {
	r, _, err := shlex.NewLex(escape).ProcessWord(s, vars)
	return r, err
}

// Fields is Word for a list (FROM, EXPOSE, VOLUME): the expansion split
// at the spaces outside quotes.
func Fields(s string, escape rune, vars Vars) ([]string, error) {
	return shlex.NewLex(escape).ProcessWords(s, vars)
}

// Heredoc expands a here-document's $ (COPY <<EOF): its quotes and
// backslashes are the file's own, as BuildKit leaves them; a bad ${
// leaves the text as written.
func Heredoc(s string, vars Vars) string {
	lex := shlex.NewLex('\\')
	lex.SkipProcessQuotes = true
	if r, _, err := lex.ProcessWord(s, vars); err == nil {
		return r
	}
	return s
}

// Pairs are ENV and LABEL's KEY=VALUE (or old KEY VALUE) pairs, as
// BuildKit's parser split them (in.Words: key, value, separator, ...),
// each key and value expanded.
func Pairs(in Instruction, vars Vars) ([][2]string, error) {
	if len(in.Words) == 0 || len(in.Words)%3 != 0 {
		return nil, fmt.Errorf("missing KEY=VALUE")
	}
	var out [][2]string
	for i := 0; i < len(in.Words); i += 3 {
		k, err := Word(in.Words[i], in.Escape, vars)
		if err != nil {
			return nil, err
		}
		v, err := Word(in.Words[i+1], in.Escape, vars)
		if err != nil {
			return nil, err
		}
		if k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", in.Words[i]+in.Words[i+2]+in.Words[i+1])
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
