package spec

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
)

// TestMountErrorsAreDockers: each bad -v, --mount and --tmpfs is refused
// with the words Docker 20.10's CLI or daemon print for it (measured
// with docker run on this toolkit's test host).
func TestMountErrorsAreDockers(t *testing.T) {
	for _, tc := range []struct{ flag, val, want string }{
		{"--mount", "dst=/x,foo=1", "unexpected key 'foo' in 'foo=1'"},
		{"--mount", "readonly", "target is required"},
		{"--mount", "type=tmpfs,dst=/x,tmpfs-size=foo", "invalid value for tmpfs-size: foo"},
		{"--mount", "type=volume,dst=/x,readonly=maybe", "invalid value for readonly: maybe"},
		{"--mount", "type=bind,src=/tmp,dst=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"},
		{"--mount", "type=foo,dst=/x", `invalid mount config for type "foo": mount type unknown`},
		{"--mount", "type=bind,dst=/x", `invalid mount config for type "bind": field Source must not be empty`},
		{"--mount", "type=bind,src=/nonexistent/x,dst=/x", `invalid mount config for type "bind": bind source path does not exist: /nonexistent/x`},
		{"--mount", "type=volume,src=v,dst=x", `invalid mount config for type "volume": invalid mount path: 'x' mount path must be absolute`},
		{"--mount", "type=tmpfs,src=a,dst=/x", `invalid mount config for type "tmpfs": field Source must not be specified`},
		{"--mount", "type=bind,src=/tmp,dst=/x,bind-propagation=foo", `invalid mount config for type "bind": invalid propagation mode: foo`},
		{"--tmpfs", "", "invalid mount path: '' mount path must be absolute"},
		{"--tmpfs", "/x:foo", `invalid tmpfs option ["foo"]`},
		{"-v", "", "invalid empty volume spec"},
		{"-v", "/a:/b:foo", "invalid mode: foo"},
		{"-v", "/a:/b:c:d", "invalid volume specification: '/a:/b:c:d'"},
		{"-v", "a/b:/x", `"a/b" includes invalid characters for a local volume name`},
		{"-v", "a:/x", "volume name is too short"},
	} {
		var o Options
		var err error
		switch tc.flag {
		case "--mount":
			var m mount.Mount
			if m, err = ParseMount(tc.val); err == nil {
				o.Mounts = []mount.Mount{m}
				_, err = o.ParseMounts()
			}
		case "--tmpfs":
			o.Tmpfs = []string{tc.val}
			_, err = o.ParseMounts()
		case "-v":
			o.Volumes = []string{tc.val}
			_, err = o.ParseMounts()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: got %v, want %q", tc.flag, tc.val, err, tc.want)
		}
	}
}

// TestParseMountsKinds: the three kinds of -v, --mount's fields, and a
// target given twice.
func TestParseMountsKinds(t *testing.T) {
	dir := t.TempDir()
	o := Options{Volumes: []string{"data:/data:ro", "/data2", filepath.Join(dir, "missing") + ":/host:rshared"}, Tmpfs: []string{"/run:size=1m"}}
	for _, v := range []string{"type=bind,source=" + dir + ",target=/b,readonly,bind-propagation=rslave", "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1700", "target=/anon,volume-nocopy"} {
		m, err := ParseMount(v)
		if err != nil {
			t.Fatalf("ParseMount(%q): %v", v, err)
		}
		o.Mounts = append(o.Mounts, m)
	}
	mf, err := o.ParseMounts()
	if err != nil {
		t.Fatal(err)
	}
	if len(mf.Binds) != 2 || mf.Tmpfs["/run"] != "size=1m" || len(mf.Mounts) != 3 {
		t.Errorf("ParseMounts = %+v", mf)
	}
	if a := o.AnonymousVolumes(); len(a) != 1 || a[0] != "/data2" {
		t.Errorf("AnonymousVolumes = %q", a)
	}
	b := mf.Mounts[0]
	if b.Type != mount.TypeBind || !b.ReadOnly || b.BindOptions.Propagation != mount.PropagationRSlave {
		t.Errorf("--mount bind = %+v", b)
	}
	if tm := mf.Mounts[1].TmpfsOptions; tm.SizeBytes != 2<<20 || tm.Mode != 0o1700 {
		t.Errorf("--mount tmpfs = %+v", tm)
	}
	if got := strings.Join(TmpfsOptions("exec", mf.Mounts[1].TmpfsOptions), ","); got != "nosuid,nodev,noexec,size=2097152,mode=1700,exec" {
		t.Errorf("TmpfsOptions = %s", got)
	}
	if v := mf.Mounts[2]; v.Type != mount.TypeVolume || v.Source != "" || !v.VolumeOptions.NoCopy {
		t.Errorf("--mount anonymous volume = %+v", v)
	}
	m, err := ParseVolume(filepath.Join(dir, "missing") + ":/host:rshared")
	if err != nil || m.Type != mount.TypeBind || !m.BindOptions.CreateMountpoint || m.BindOptions.Propagation != "rshared" {
		t.Errorf("-v with a missing host folder = %+v, %v (Docker makes the folder)", m, err)
	}
	o = Options{Volumes: []string{"a1:/x"}, Tmpfs: []string{"/x/"}}
	if _, err := o.ParseMounts(); err == nil || err.Error() != "Duplicate mount point: /x" {
		t.Errorf("a target twice: %v", err)
	}
}

// FuzzParseVolume: any -v value is refused or read into a mount with an
// absolute target, of a type that fits its source; never a panic.
func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{"/a:/b", "/a:/b:ro", "vol:/b:ro,nocopy", "/b", ":", "/a:/b:ro:x", "/a:b", "/a:/b:rshared,z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseVolume(s)
		if err != nil {
			return
		}
		if !filepath.IsAbs(m.Target) || m.Type == mount.TypeBind && !filepath.IsAbs(m.Source) ||
			m.Type == mount.TypeVolume && m.Source != "" && CheckVolumeName(m.Source) != nil {
			t.Fatalf("ParseVolume(%q) = %+v", s, m)
		}
	})
}

// FuzzParseMount: any --mount value is refused or read into a mount
// that names a target; never a panic.
func FuzzParseMount(f *testing.F) {
	for _, s := range []string{"type=bind,src=/a,dst=/b,readonly", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777",
		"target=/x,volume-nocopy,volume-label=a=b", `"type=volume,dst=/x"`, "dst=/x,foo", "type=bind,src=/a,dst=/b,bind-propagation=rslave"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMount(s)
		if err == nil && m.Target == "" {
			t.Fatalf("ParseMount(%q) = %+v without a target", s, m)
		}
	})
}

// FuzzParseTmpfs: any --tmpfs value is refused or gives an absolute
// target and options tmpfs knows.
func FuzzParseTmpfs(f *testing.F) {
	for _, s := range []string{"/run", "/run:size=1m,mode=700", "/x:exec", "x", "/x:foo", "/:size=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dst, opts, err := ParseTmpfs(s)
		if err != nil {
			return
		}
		if !filepath.IsAbs(dst) || filepath.Clean(dst) == "/" || strings.Contains(opts, ":") && !strings.Contains(s, opts) {
			t.Fatalf("ParseTmpfs(%q) = %q, %q", s, dst, opts)
		}
	})
}
