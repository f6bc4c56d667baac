package overlayfs

import (
	"os"
	"testing"

	"mini-docker/overlay/internal/mountns"
)

// The tests run in a mount namespace of their own (see mountns), so that
// testenv.NoNewMounts sees only this package's mounts.
func TestMain(m *testing.M) { mountns.Main(m, func(m *testing.M) { os.Exit(m.Run()) }) }
