package dockerfile

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzParse feeds arbitrary text to the Dockerfile parser. It must not
// panic, and every Dockerfile it accepts must come back as instructions
// the builder can trust: a known instruction word, lines in order inside
// the file, flags only where flags go, an exec form that is the JSON
// array written, and a FROM before anything but ARG.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"FROM debian\nRUN echo hi\n",
		"# comment\nARG BASE=debian\nFROM $BASE\n\nRUN apt-get update && \\\n    # a comment inside\n    apt-get install -y x\nCOPY --chown=1:2 a b /dst/\nCMD [\"sh\", \"-c\", \"echo hi\"]\nentrypoint echo shell form\n",
		"FROM --platform=linux/amd64 busybox AS base\r\nWORKDIR /app\r\nENV A=1 B=\"two words\" C='x y'\r\nLABEL k=v\r\nUSER 1000:1000\r\nEXPOSE 80/tcp\r\n",
		"FROM x\nADD --chown=0:0 [\"a b\", \"/c\"]\nVOLUME [\"/data\"]\nSHELL [\"/bin/sh\", \"-c\"]\nSTOPSIGNAL SIGTERM\nMAINTAINER me\n",
		"FROM x\nRUN\nCMD\nENTRYPOINT [\n",
		"FROM x\\\n\\\n\\",
		"ARG A\nARG B\nRUN true\n",
		"FROM\tdebian\nRUN\t--mount=type=cache ls\n",
		"FROOM x\n",
		"",
		"\\",
		"# escape=`\nFROM x\nRUN echo a `\n  b\n",
		"FROM x AS b\nRUN <<EOF\necho hi\nEOF\nCOPY --from=b <<X /a\nhello\nX\n",
		"FROM x\nONBUILD RUN echo x\nHEALTHCHECK --interval=5s CMD true\nHEALTHCHECK NONE\n",
		"FROM x\nRUN <<-EOF bash\n\techo unterminated\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ins, err := Parse(text)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse error %v is not a *ParseError", err)
			}
			return
		}
		lines := strings.Count(strings.ReplaceAll(text, "\r\n", "\n"), "\n") + 1
		if len(ins) == 0 {
			t.Fatal("accepted a Dockerfile with no instructions")
		}
		prev := 0
		sawFrom := false
		for i, in := range ins {
			if !known[in.Cmd] {
				t.Fatalf("instruction %d: unknown %q accepted", i, in.Cmd)
			}
			if in.Line <= prev || in.Line > lines {
				t.Fatalf("instruction %d: line %d after line %d (file has %d)", i, in.Line, prev, lines)
			}
			prev = in.Line
			if !strings.EqualFold(strings.Fields(in.Original)[0], in.Cmd) {
				t.Fatalf("instruction %d: %q does not start with %s", i, in.Original, in.Cmd)
			}
			if in.Args != strings.TrimSpace(in.Args) {
				t.Fatalf("instruction %d: args %q not trimmed", i, in.Args)
			}
			if in.Args == "" && in.Cmd != "RUN" && in.Cmd != "CMD" && in.Cmd != "ENTRYPOINT" {
				t.Fatalf("instruction %d: %s accepted without arguments", i, in.Cmd)
			}
			// A flag is one word, but BuildKit unquotes it: --x="a b" is
			// the flag --x=a b (a FROM, COPY, ... then refuses what it
			// does not know).
			for _, fl := range in.Flags {
				if !strings.HasPrefix(fl, "--") {
					t.Fatalf("instruction %d: flag %q", i, fl)
				}
			}
			if len(in.Flags) > 0 && !takesFlags[in.Cmd] {
				t.Fatalf("instruction %d: %s took flags %q", i, in.Cmd, in.Flags)
			}
			// The exec form is the JSON array written (BuildKit decides
			// which instructions have one, and accepts only strings).
			var arr []string
			if in.IsJSON && (json.Unmarshal([]byte(in.Args), &arr) != nil || strings.Join(arr, "\x00") != strings.Join(in.JSON, "\x00")) {
				t.Fatalf("instruction %d: exec form %v %q of args %q", i, in.IsJSON, in.JSON, in.Args)
			}
			switch {
			case in.Cmd == "FROM":
				sawFrom = true
			case !sawFrom && in.Cmd != "ARG":
				t.Fatalf("instruction %d: %s before any FROM", i, in.Cmd)
			}
		}
	})
}

// FuzzExpand checks the builder's variable expansion (BuildKit's lexer
// as the builder calls it) and ENV's pairs: no panic, a word without $,
// quotes or escapes unchanged, and every pair accepted with a key.
func FuzzExpand(f *testing.F) {
	for _, seed := range []string{
		"$A", "${A}y", "${NOPE:-fallback}", "${A:+alt}", `\$A`, "${A", "$", "${}", "${A:-${B:-c}}",
		`A=1 B="two words" C='x y'`, `K V with spaces`, `"unterminated`, `A=`, `=v`, `\ `,
	} {
		f.Add(seed)
	}
	vars := map[string]string{"A": "x", "EMPTY": "", "B": "$A"}
	look := Vars(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Word(s, '\\', look)
		if err == nil && utf8.ValidString(s) && !strings.ContainsAny(s, `$\'"`) && got != s {
			t.Fatalf("Word(%q) = %q, want it unchanged", s, got)
		}
		Heredoc(s, look)
		ins, err := Parse("FROM x\nENV " + s + "\n")
		if err != nil || len(ins) < 2 {
			return
		}
		if kvs, err := Pairs(ins[1], look); err == nil {
			if len(kvs) == 0 {
				t.Fatalf("Pairs(ENV %q) accepted nothing", s)
			}
			for _, kv := range kvs {
				if kv[0] == "" {
					t.Fatalf("Pairs(ENV %q): an empty key in %q", s, kvs)
				}
			}
		}
	})
}

// FuzzApplyChanges feeds docker import/commit -c values to ApplyChanges.
// It must not panic nor touch the config it is given; a change it
// accepts is one of Docker's commit commands, and leaves an absolute,
// clean WORKDIR.
func FuzzApplyChanges(f *testing.F) {
	for _, seed := range []string{`CMD ["sh"]`, "ENV A=b C=d", "WORKDIR srv", "HEALTHCHECK --interval=5s CMD true", "ONBUILD RUN x",
		"STOPSIGNAL 9", "RUN true", "LABEL k=\"v w\"\nUSER 1:2", "EXPOSE 80/udp", "VOLUME [\"/data\"]", "ENTRYPOINT", "FROM x", ""} {
		f.Add(seed)
	}
	allowed := map[string]bool{"CMD": true, "ENTRYPOINT": true, "ENV": true, "EXPOSE": true, "HEALTHCHECK": true,
		"LABEL": true, "ONBUILD": true, "USER": true, "VOLUME": true, "WORKDIR": true}
	f.Fuzz(func(t *testing.T, change string) {
		cfg := ocispec.ImageConfig{Env: []string{"PATH=/bin"}, Labels: map[string]string{"a": "b"}, WorkingDir: "/w"}
		ext := dockerspec.DockerOCIImageConfigExt{OnBuild: []string{"RUN y"}}
		got, _, err := ApplyChanges(cfg, ext, []string{change})
		if !reflect.DeepEqual(cfg.Env, []string{"PATH=/bin"}) || !reflect.DeepEqual(cfg.Labels, map[string]string{"a": "b"}) ||
			!reflect.DeepEqual(ext.OnBuild, []string{"RUN y"}) {
			t.Fatalf("the given config changed: %+v %+v", cfg, ext)
		}
		if err != nil {
			return
		}
		if ins, perr := Parse("FROM scratch\n" + change); perr == nil {
			for _, in := range ins[1:] {
				if !allowed[in.Cmd] {
					t.Fatalf("%s accepted as a change", in.Cmd)
				}
			}
		}
		if got.WorkingDir != "" && (!filepath.IsAbs(got.WorkingDir) || filepath.Clean(got.WorkingDir) != got.WorkingDir) {
			t.Fatalf("WORKDIR %q", got.WorkingDir)
		}
	})
}
