package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Docker's own instructions, which the OCI image config has no field
// for: HEALTHCHECK and ONBUILD are kept in the config's Docker fields
// (Healthcheck, OnBuild), as docker build keeps them; heredocs are
// BuildKit's (RUN <<EOF ... EOF, COPY <<EOF /file).

// triggers runs the ONBUILD instructions of the stage's base image, as
// the first steps of the stage, and clears them: a child image does not
// pass its parent's triggers on.
func (b *Builder) triggers() error {
	list := b.ext.OnBuild
	if len(list) == 0 {
		return nil
	}
	b.ext.OnBuild = nil
	word := "trigger"
	if len(list) > 1 {
		word = "triggers"
	}
	fmt.Fprintf(b.out, "# Executing %d build %s\n", len(list), word)
	for _, text := range list {
		res, err := parser.Parse(strings.NewReader(text))
		if err != nil || len(res.AST.Children) != 1 {
			return fmt.Errorf("ONBUILD trigger %q of the base image: cannot parse it", text)
		}
		in, err := fromNode(res.AST.Children[0], res.EscapeToken)
		if err != nil {
			return fmt.Errorf("ONBUILD trigger %q of the base image: %w", text, err)
		}
		if in.Cmd == "FROM" || in.Cmd == "ONBUILD" || in.Cmd == "MAINTAINER" {
			return fmt.Errorf("%s isn't allowed as an ONBUILD trigger", in.Cmd)
		}
		if _, err := b.step(in); err != nil {
			return err
		}
	}
	return nil
}

// heredocScript is what RUN's shell runs for a RUN with heredocs, as
// BuildKit does: the heredoc's text alone for "RUN <<EOF", else the
// line with each heredoc put back under it, for the shell to read.
func heredocScript(in Instruction) string {
	if h, _ := parser.ParseHeredoc(in.Args); h != nil && len(in.Heredocs) == 1 {
		return in.Heredocs[0].Content
	}
	script := in.Args
	for _, h := range in.Heredocs {
		script += "\n" + h.Content + h.Name
	}
	return script
}

// heredocFiles writes COPY's heredocs (COPY <<EOF /file) into a folder,
// one file each (mode 0644, as BuildKit makes them), and returns the
// source names to copy from it.
func (b *Builder) heredocFiles(in Instruction, srcs []string) (string, []string, error) {
	dir, err := os.MkdirTemp(filepath.Join(b.s.Root, "ingest"), "build-heredoc."+strconv.Itoa(os.Getpid())+".")
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, s := range srcs {
		h, _ := parser.ParseHeredoc(s)
		if h != nil && (h.Name == "" || h.Name == "." || h.Name == ".." || strings.Contains(h.Name, "/")) {
			os.RemoveAll(dir)
			return "", nil, &ParseError{in.Line, fmt.Sprintf("%s: %q is not a file name", in.Cmd, h.Name)}
		}
		if h == nil {
			os.RemoveAll(dir)
			return "", nil, &ParseError{in.Line, fmt.Sprintf("%s: %s: heredocs and files cannot be mixed", in.Cmd, s)}
		}
		content := ""
		for _, d := range in.Heredocs {
			if d.Name == h.Name {
				content = d.Content
				if d.Expand {
					// Quotes are the file's own: only $ is expanded.
					content = Heredoc(content, b.lookupVar)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, h.Name), []byte(content), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		names = append(names, h.Name)
	}
	return dir, names, nil
}
