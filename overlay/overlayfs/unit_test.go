package overlayfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOverlayOptions(t *testing.T) {
	tests := []struct {
		name, opts string
		want       Layers
	}{
		{"classic", `rw,lowerdir=/l/b:/l/a,upperdir=/c/u,workdir=/c/w,uuid=on`,
			Layers{Lower: []string{"/l/b", "/l/a"}, Upper: "/c/u", Work: "/c/w"}},
		{"new mount API", `rw,lowerdir+=/l/b,lowerdir+=/l/a,upperdir=/c/u,workdir=/c/w`,
			Layers{Lower: []string{"/l/b", "/l/a"}, Upper: "/c/u", Work: "/c/w"}},
		{"read-only", `ro,lowerdir=/l/b:/l/a,redirect_dir=on`,
			Layers{Lower: []string{"/l/b", "/l/a"}}},
		{"escapes", `rw,lowerdir=/x/sp\040ace\134\054x:/x/a\134:b,upperdir=/x/u\054v,workdir=/x/w`,
			Layers{Lower: []string{"/x/sp ace,x", "/x/a:b"}, Upper: "/x/u,v", Work: "/x/w"}},
		{"short links", `rw,lowerdir=ABCDEF:GHIJKL,upperdir=/c/u,workdir=/c/w`,
			Layers{Lower: []string{"ABCDEF", "GHIJKL"}, Upper: "/c/u", Work: "/c/w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseOverlayOptions(tt.opts)
			if !slices.Equal(got.Lower, tt.want.Lower) || got.Upper != tt.want.Upper || got.Work != tt.want.Work {
				t.Errorf("parseOverlayOptions(%q) = %+v, want %+v", tt.opts, *got, tt.want)
			}
		})
	}
}

func TestOptionString(t *testing.T) {
	o := Options{Lower: []string{"/l/a:b", "/l/c,d"}, Upper: "/u", Work: "/w"}
	if got, want := optionString(o, "lowerdir", o.Lower), `lowerdir=/l/a\:b:/l/c\,d,upperdir=/u,workdir=/w`; got != want {
		t.Errorf("classic = %q, want %q", got, want)
	}
	if got, want := optionString(o, "lowerdir+", o.Lower), `lowerdir+=/l/a:b,lowerdir+=/l/c\,d,upperdir=/u,workdir=/w`; got != want {
		t.Errorf("lowerdir+ = %q, want %q", got, want)
	}
	ro := Options{Lower: []string{"/a", "/b"}, ReadOnly: true}
	if got, want := optionString(ro, "lowerdir", ro.Lower), `lowerdir=/a:/b`; got != want {
		t.Errorf("read-only = %q, want %q (no ro: kernels before 6.5 refuse it in mount(2)'s string)", got, want)
	}
	if got, want := strings.Join(mountCommand(ro, "lowerdir"), " "), `mount -t overlay overlay -o ro,lowerdir=/a:/b `; got != want {
		t.Errorf("read-only mount(8) line = %q, want %q", got, want)
	}
}

func TestReadMountinfo(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mountinfo")
	os.WriteFile(f, []byte(`22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
45 22 0:39 / /c/m\040x rw,relatime - overlay overlay rw,lowerdir=/l/b:/l/a,upperdir=/c/u,workdir=/c/w
46 22 0:40 / /c/m\040x rw,relatime shared:7 master:2 - tmpfs tmpfs rw,size=1024k
`), 0o644)
	m, err := findMount(f, "/c/m x")
	if err != nil {
		t.Fatal(err)
	}
	if m.FSType != "tmpfs" {
		t.Errorf("found %s, want the top mount (tmpfs) of the two on /c/m x", m.FSType)
	}
	ovs, err := overlayMounts(f)
	if err != nil || len(ovs) != 1 || ovs[0].Merged != "/c/m x" || ovs[0].Upper != "/c/u" {
		t.Errorf("overlayMounts = %+v, %v", ovs, err)
	}
	if _, err := findMount(f, "/nowhere"); err == nil {
		t.Error("findMount of a folder that is no mount point succeeded")
	}
}

func TestListsOverlay(t *testing.T) {
	dir := t.TempDir()
	with, without := filepath.Join(dir, "with"), filepath.Join(dir, "without")
	os.WriteFile(with, []byte("nodev\tsysfs\n\text4\nnodev\toverlay\n"), 0o644)
	os.WriteFile(without, []byte("nodev\tsysfs\n\text4\nnodev\toverlayfs-not\n"), 0o644)
	if ok, err := listsOverlay(with); !ok || err != nil {
		t.Errorf("listsOverlay(with) = %v, %v", ok, err)
	}
	if ok, err := listsOverlay(without); ok || err != nil {
		t.Errorf("listsOverlay(without) = %v, %v", ok, err)
	}
}

func TestOCINames(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{OCIWhiteout("/etc/motd"), "etc/.wh.motd"},
		{OCIWhiteout("/top"), ".wh.top"},
		{OCIOpaque("/var/cache"), "var/cache/.wh..wh..opq"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTopFirst(t *testing.T) {
	base := []string{"/l/1", "/l/2", "/l/3"}
	if got := TopFirst(base); !slices.Equal(got, []string{"/l/3", "/l/2", "/l/1"}) {
		t.Errorf("TopFirst = %v", got)
	}
	if base[0] != "/l/1" {
		t.Error("TopFirst changed its argument")
	}
}

func TestIsOpaqueUserXattr(t *testing.T) {
	dir := t.TempDir()
	if opaque, err := IsOpaque(dir); opaque || err != nil {
		t.Fatalf("plain folder: IsOpaque = %v, %v", opaque, err)
	}
	if err := unix.Lsetxattr(dir, UserOpaqueXattr, []byte("y"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if opaque, err := IsOpaque(dir); !opaque || err != nil {
		t.Errorf("user.overlay.opaque=y: IsOpaque = %v, %v", opaque, err)
	}
}
