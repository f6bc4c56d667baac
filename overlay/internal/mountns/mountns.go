// Package mountns runs a test binary in a mount namespace of its own, so
// that the overlays its tests mount never show in the host's mount table,
// and the mounts other packages' tests make at the same time (go test runs
// packages in parallel) never show in its own. testenv.NoNewMounts then
// sees exactly this package's mounts: a leak is still caught.
//
// It serves the tests of lesson 04 (lessons/04-overlayfs.md).
package mountns

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const envKey = "MINI_DOCKER_TEST_MOUNTNS"

// Main runs run(m) in a new mount namespace whose mounts are all private.
// Without root it runs run(m) where it is (the integration tests skip).
// Use it as: func TestMain(m *testing.M) { mountns.Main(m, testenv.Main) }.
func Main(m *testing.M, run func(*testing.M)) {
	if os.Getenv(envKey) == "1" {
		// Private: mounts made here do not propagate to the host's
		// namespace, and the host's new mounts do not propagate here.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Fprintf(os.Stderr, "mountns: make / private: %v\n", err)
			os.Exit(1)
		}
		run(m)
		return
	}
	if os.Geteuid() != 0 {
		run(m)
		return
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envKey+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		os.Exit(x.ExitCode())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mountns: run the tests in a new mount namespace: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
