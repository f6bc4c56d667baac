package caps

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mapsID reads an ID map as user_namespaces(7) writes it: each line maps
// COUNT IDs from INSIDE on.
func TestMapsID(t *testing.T) {
	for _, c := range []struct {
		idMap string
		id    int
		want  bool
	}{
		{"         0          0          1\n", 0, true},
		{"         0          0          1\n", 1000, false},
		{"0 0 4294967295\n", 1000, true},
		{"0 100000 65536\n", 65535, true},
		{"0 100000 65536\n", 65536, false},
		{"0 0 1\n1000 1000 1\n", 1000, true},
		{"", 0, false},
		{"x y z\n0 0\n", 0, false},
	} {
		if got := mapsID(c.idMap, c.id); got != c.want {
			t.Errorf("mapsID(%q, %d) = %v, want %v", c.idMap, c.id, got, c.want)
		}
	}
}

// TestLookupUserStaysInsideTheRoot: the root is an image, an attacker.
// Its /etc/passwd is read as a process chrooted there reads it: an
// absolute symlink to a host file reads the root's own file of that
// name (never the host's fields), one inside the root works, a fifo is
// refused without blocking, and a file over the bound is refused.
func TestLookupUserStaysInsideTheRoot(t *testing.T) {
	host := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(host, []byte("secret:x:4242:4343::/HOST-SECRET:/bin/sh\n"), 0o644)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.Symlink(host, filepath.Join(root, "etc/passwd"))
	if u, err := LookupUser(root, "secret", nil); err == nil {
		t.Errorf("a link to the host's %s: got %+v, want no such user", host, u)
	}
	// The same absolute link, now with a file of that name in the root.
	os.MkdirAll(filepath.Join(root, filepath.Dir(host)), 0o755)
	os.WriteFile(filepath.Join(root, host), []byte("inside:x:7:8::/home/inside:/bin/sh\n"), 0o644)
	if u, err := LookupUser(root, "inside", nil); err != nil || u.UID != 7 || u.Home != "/home/inside" {
		t.Errorf("an absolute link resolved inside the root: %+v, %v", u, err)
	}

	fifo := t.TempDir()
	os.MkdirAll(filepath.Join(fifo, "etc"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(fifo, "etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LookupUser(fifo, "1000", nil); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a fifo as /etc/passwd: %v, want not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a fifo as /etc/passwd blocked the lookup")
	}

	big := t.TempDir()
	os.MkdirAll(filepath.Join(big, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(big, "etc/passwd"), []byte(strings.Repeat("a\n", maxUserFile/2+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LookupUser(big, "0", nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an /etc/passwd over %d bytes: %v, want refused", maxUserFile, err)
	}
}
