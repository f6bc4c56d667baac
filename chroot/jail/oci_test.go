package jail

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestParseMount: mount(8)'s options as runc reads a bundle's mounts:
// flags set and cleared, the propagation, the rest as the filesystem's data.
func TestParseMount(t *testing.T) {
	for _, c := range []struct {
		typ   string
		opts  []string
		flags uintptr
		prop  uintptr
		data  string
	}{
		{"tmpfs", []string{"nosuid", "strictatime", "mode=755", "size=65536k"}, unix.MS_NOSUID | unix.MS_STRICTATIME, 0, "mode=755,size=65536k"},
		{"sysfs", []string{"nosuid", "noexec", "nodev", "ro"}, unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY, 0, ""},
		{"none", []string{"rbind", "ro", "rw", "rprivate"}, unix.MS_BIND | unix.MS_REC, unix.MS_PRIVATE | unix.MS_REC, ""},
		{"bind", []string{"nosuid"}, unix.MS_BIND | unix.MS_NOSUID, 0, ""},
	} {
		m := ParseMount(c.typ, "src", "/dst", c.opts)
		if m.Flags != c.flags || m.Propagation != c.prop || m.Data != c.data {
			t.Errorf("%s %v: flags %#x propagation %#x data %q, want %#x %#x %q", c.typ, c.opts, m.Flags, m.Propagation, m.Data, c.flags, c.prop, c.data)
		}
	}
}

// FuzzParseMount: any option list parses; an option is either a flag, a
// propagation or part of the data, never lost.
func FuzzParseMount(f *testing.F) {
	f.Add("nosuid,strictatime,mode=755,size=65536k")
	f.Add("rbind,ro,rprivate")
	f.Fuzz(func(t *testing.T, list string) {
		opts := strings.Split(list, ",")
		m := ParseMount("tmpfs", "tmpfs", "/dev", opts)
		for _, o := range opts {
			_, flag := mountFlags[o]
			_, prop := propagations[o]
			if o != "" && !flag && !prop && !strings.Contains(","+m.Data+",", ","+o+",") {
				t.Fatalf("option %q lost: data %q", o, m.Data)
			}
		}
	})
}
