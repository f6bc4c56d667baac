package dockerfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Docker's own instructions, which the OCI image config has no field
// for: HEALTHCHECK and ONBUILD are kept in the config's Docker fields
// (Healthcheck, OnBuild), as docker build keeps them; heredocs are
// BuildKit's (RUN <<EOF ... EOF, COPY <<EOF /file).

// ParseHealthcheck reads HEALTHCHECK's flags and arguments, as Docker
// does: NONE, or CMD with a command (the shell form becomes CMD-SHELL).
func ParseHealthcheck(flags []string, args string) (*dockerspec.HealthcheckConfig, error) {
	hc := &dockerspec.HealthcheckConfig{}
	word, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(word) {
	case "NONE":
		if rest != "" || len(flags) > 0 {
			return nil, fmt.Errorf("HEALTHCHECK NONE takes no arguments")
		}
		hc.Test = []string{"NONE"}
		return hc, nil
	case "CMD":
	default:
		return nil, fmt.Errorf("unknown type %q in HEALTHCHECK (try CMD)", word)
	}
	var argv []string
	if strings.HasPrefix(rest, "[") && json.Unmarshal([]byte(rest), &argv) == nil {
		hc.Test = append([]string{"CMD"}, argv...)
	} else {
		if rest == "" {
			return nil, fmt.Errorf("missing command after HEALTHCHECK CMD")
		}
		hc.Test = []string{"CMD-SHELL", rest}
	}
	for _, f := range flags {
		name, value, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		var d *time.Duration
		switch name {
		case "interval":
			d = &hc.Interval
		case "timeout":
			d = &hc.Timeout
		case "start-period":
			d = &hc.StartPeriod
		case "start-interval":
			d = &hc.StartInterval
		case "retries":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("--retries: %q is not a number", value)
			}
			if n < 0 {
				return nil, fmt.Errorf("--retries cannot be negative (%d)", n)
			}
			hc.Retries = n
			continue
		default:
			return nil, fmt.Errorf("unknown flag: %s", name)
		}
		v, err := time.ParseDuration(value)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		// Docker: 0 means "inherit", anything else at least 1ms.
		if v != 0 && v < time.Millisecond {
			return nil, fmt.Errorf("--%s cannot be less than 1ms", name)
		}
		*d = v
	}
	return hc, nil
}

// healthDesc is HEALTHCHECK's history line as Docker's classic builder
// writes it since Docker 25 (26.1.5 checked): its HealthConfig printed
// with %q, which quotes each word of the test, each duration (interval,
// timeout, start period, start interval) and the retries as a character.
// Docker 20.10's HealthConfig had no start interval, so its line has one
// duration fewer; the line shows every field mini-docker keeps.
func healthDesc(hc *dockerspec.HealthcheckConfig) string {
	return fmt.Sprintf("HEALTHCHECK &{%s %q %q %q %q %s}", quoteArgv(hc.Test), hc.Interval.String(), hc.Timeout.String(),
		hc.StartPeriod.String(), hc.StartInterval.String(), strconv.QuoteRune(rune(hc.Retries)))
}

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
					content = b.expand(content)
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
