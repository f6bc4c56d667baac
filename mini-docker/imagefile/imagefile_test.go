package imagefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// An image's /etc/passwd is read as the container will see it: a
// symlink to a host file reads nothing (HOME falls back as Docker's),
// one inside the image is followed, and a fifo or a device is not
// opened (a fifo would block the start).
func TestHomeReadsInsideTheRoot(t *testing.T) {
	host := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(host, []byte("root:x:0:0:root:/LEAKED:/bin/sh\n"), 0o644)
	for _, tc := range []struct {
		name string
		make func(etc string) error
		want string
	}{
		{"file", func(etc string) error {
			return os.WriteFile(filepath.Join(etc, "passwd"), []byte("root:x:0:0:root:/home/r:/bin/sh\n"), 0o644)
		}, "/home/r"},
		{"symlink to a host file", func(etc string) error { return os.Symlink(host, filepath.Join(etc, "passwd")) }, "/root"},
		{"symlink up and out", func(etc string) error {
			return os.Symlink("../../../../../../../../.."+host, filepath.Join(etc, "passwd"))
		}, "/root"},
		{"symlink inside the image", func(etc string) error {
			os.WriteFile(filepath.Join(etc, "passwd.real"), []byte("root:x:0:0:root:/home/in:/bin/sh\n"), 0o644)
			return os.Symlink("passwd.real", filepath.Join(etc, "passwd"))
		}, "/home/in"},
		{"fifo", func(etc string) error { return syscall.Mkfifo(filepath.Join(etc, "passwd"), 0o644) }, "/root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			etc := filepath.Join(root, "etc")
			os.Mkdir(etc, 0o755)
			if err := tc.make(etc); err != nil {
				t.Fatal(err)
			}
			if got := Home(root, "root"); got != tc.want {
				t.Errorf("Home = %q, want %q", got, tc.want)
			}
		})
	}
}
