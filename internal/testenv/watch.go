package testenv

import (
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WatchNames records the name of every entry made in dir (created
// when missing) that matches pattern, from now until the test ends,
// even of entries removed at once (inotify: IN_CREATE, IN_MOVED_TO).
// The returned function lists them. Tests use it to learn the IDs of
// every container made under their state root, so that leak checks
// look only at their own cgroups and namespaces.
func WatchNames(t testing.TB, dir string, pattern *regexp.Regexp) func() []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	t.Cleanup(func() { f.Close() })
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				start := off + unix.SizeofInotifyEvent
				name := strings.TrimRight(string(buf[start:start+int(ev.Len)]), "\x00")
				if pattern.MatchString(name) {
					mu.Lock()
					seen[name] = true
					mu.Unlock()
				}
				off = start + int(ev.Len)
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for n := range seen {
			out = append(out, n)
		}
		return out
	}
}
