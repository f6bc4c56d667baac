//go:build !cgo

package nsenter

import "os"

// Available is false: built without cgo, this binary cannot join a mount
// or user namespace (see nsenter.go).
const Available = false

// Env is the variable the Go side sets to ask the constructor for a join.
const Env = "_MINI_DOCKER_NSENTER"

// Joined is always false without the constructor.
func Joined() bool { return false }

func init() { os.Unsetenv(Env) }
