// Package toolkit finds the toolkit's programs (unshare, cgroupctl,
// chroot, overlay, vethctl, seccompctl, capctl: the files next to
// mini-docker's own executable) and runs a host step as its program, so
// that a failed step reads as the tool's own error. Lesson 09
// (lessons/09-mini-docker.md) teaches the chain they make.
package toolkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/overlay/overlayfs"
)

// Tools finds the toolkit's binaries. mini-docker looks for nothing by a
// fixed path: its siblings are the files next to its own executable, so a
// checkout's bin/ and an installed copy each run their own tools.
type Tools struct{ Dir string }

// SelfTools returns the Tools next to the running executable.
func SelfTools() (Tools, error) {
	exe, err := os.Executable()
	if err != nil {
		return Tools{}, fmt.Errorf("find mini-docker's own executable: %w", err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return Tools{}, fmt.Errorf("find mini-docker's own executable: %w", err)
	}
	return Tools{Dir: filepath.Dir(exe)}, nil
}

// MissingToolError says which stage needs a tool that is not built.
type MissingToolError struct{ Tool, Path, Stage string }

func (e *MissingToolError) Error() string {
	return fmt.Sprintf("%s: needs the %s tool, not found at %s", e.Stage, e.Tool, e.Path)
}

// hostTools are the host's own programs a chain names: util-linux's
// prlimit (--ulimit), found on PATH rather than next to mini-docker.
var hostTools = map[string]bool{"prlimit": true}

// Path returns the absolute path of tool, or a MissingToolError naming
// the stage that needs it.
func (t Tools) Path(tool, stage string) (string, error) {
	if hostTools[tool] {
		p, err := exec.LookPath(tool)
		if err != nil {
			return "", &MissingToolError{Tool: tool, Path: "$PATH (util-linux)", Stage: stage}
		}
		return filepath.Abs(p)
	}
	p := filepath.Join(t.Dir, tool)
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", &MissingToolError{Tool: tool, Path: p, Stage: stage}
	}
	return p, nil
}

// Run runs one host-side step as its tool (vethctl create, vethctl
// bridge add, vethctl ipam release, cgroupctl freeze), printing it first
// when explaining; the steps with an in-process Fn do not come here. Its error carries the tool's own
// message (its stderr), which already says what failed and why.
func Run(ex *explain.Printer, argv []string) error {
	ex.Argv(argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		// The tool's own "TOOL: error: ..." line is the message; keep its
		// first line and let the hint follow.
		return &ToolError{Argv: argv, Msg: msg, Err: err}
	}
	return nil
}

// ToolError is a failed step: the command and what it printed.
type ToolError struct {
	Argv []string
	Msg  string
	Err  error
}

func (e *ToolError) Error() string {
	first, _, _ := strings.Cut(e.Msg, "\n")
	return fmt.Sprintf("%s: %s", filepath.Base(e.Argv[0]), strings.TrimPrefix(first, filepath.Base(e.Argv[0])+": error: "))
}

func (e *ToolError) Unwrap() error { return e.Err }

// Hint returns the tool's hint line, if it printed one.
func (e *ToolError) Hint() string {
	for _, line := range strings.Split(e.Msg, "\n") {
		if _, h, ok := strings.Cut(line, ": hint: "); ok {
			return h
		}
	}
	return ""
}

// StepError makes an in-process step's failure read as the tool's own
// would (`TOOL: error: what: why` plus its hint line): the step is
// printed as that tool's command, so its error names the same tool, and
// `mini-docker run` reports it with the same exit code and hint.
func StepError(argv []string, err error) error {
	if err == nil {
		return nil
	}
	tool := filepath.Base(argv[0])
	msg := tool + ": error: " + strings.ReplaceAll(err.Error(), "\n", " ")
	var oe *overlayfs.Error
	var ce *cli.Error
	switch {
	case errors.As(err, &oe) && oe.Hint != "":
		msg += "\n" + tool + ": hint: " + oe.Hint
	case errors.As(err, &ce) && ce.Hint != "":
		msg += "\n" + tool + ": hint: " + ce.Hint
	}
	return &ToolError{Argv: argv, Msg: msg, Err: err}
}
