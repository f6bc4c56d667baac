package engine

import (
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/engine/toolkit"
)

// The toolkit's programs, found next to mini-docker's own executable
// (package toolkit).
type (
	Tools            = toolkit.Tools
	ToolError        = toolkit.ToolError
	MissingToolError = toolkit.MissingToolError
)

// runTool runs a host-side step as its tool (toolkit.Run).
func runTool(ex *explain.Printer, argv []string) error { return toolkit.Run(ex, argv) }

// stepError makes an in-process step's failure read as its tool's own
// (toolkit.StepError).
func stepError(argv []string, err error) error { return toolkit.StepError(argv, err) }

// RunTool runs one host-side step as its tool, printed when explaining
// (package sweep releases leases so).
func (e *Engine) RunTool(argv ...string) error { return runTool(e.Explain, argv) }
