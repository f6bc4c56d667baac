package unpack

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/testenv"
)

// layer builds a tar stream from headers; a regular file's content is its
// Linkname field (moved out before writing).
func layer(t *testing.T, hdrs ...tar.Header) *bytes.Buffer {
	t.Helper()
	b, err := tarStream(hdrs...)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewBuffer(b)
}

// tarStream writes hdrs as a PAX tar stream (see layer).
func tarStream(hdrs ...tar.Header) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		var body []byte
		if h.Typeflag == tar.TypeReg {
			body, h.Linkname = []byte(h.Linkname), ""
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		tw.Write(body)
	}
	err := tw.Close()
	return buf.Bytes(), err
}

func reg(name, content string) tar.Header {
	return tar.Header{Typeflag: tar.TypeReg, Name: name, Linkname: content}
}
func dir(name string) tar.Header { return tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755} }
func symlink(name, target string) tar.Header {
	return tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}
}
func hardlink(name, target string) tar.Header {
	return tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}
}

func TestUnpackKeepsMetadata(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	mtime := time.Unix(1600000000, 0)
	suid := reg("bin/su", "su")
	suid.Mode, suid.Uid, suid.Gid = 0o4755, 0, 0
	owned := reg("home/u/f", "hello")
	owned.Uid, owned.Gid, owned.ModTime = 1000, 1001, mtime
	owned.PAXRecords = map[string]string{"SCHILY.xattr.user.color": "blue"}
	cdev := tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}
	fifo := tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o600}
	d := dir("etc")
	d.ModTime = mtime
	err := Unpack(layer(t, d, reg("etc/a", "A"), hardlink("etc/b", "etc/a"), symlink("etc/c", "/etc/a"),
		suid, owned, cdev, fifo), root)
	if err != nil {
		t.Fatal(err)
	}
	var a, b unix.Stat_t
	unix.Lstat(filepath.Join(root, "etc/a"), &a)
	unix.Lstat(filepath.Join(root, "etc/b"), &b)
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("etc/b is not a hardlink of etc/a: inodes %d %d, nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	if target, _ := os.Readlink(filepath.Join(root, "etc/c")); target != "/etc/a" {
		t.Errorf("etc/c -> %q, want /etc/a", target)
	}
	if st, _ := os.Lstat(filepath.Join(root, "etc")); !st.ModTime().Equal(mtime) {
		t.Errorf("etc mtime %v, want %v (set after its children)", st.ModTime(), mtime)
	}
	var s unix.Stat_t
	unix.Lstat(filepath.Join(root, "bin/su"), &s)
	if s.Mode&0o7777 != 0o4755 {
		t.Errorf("bin/su mode %o, want 4755", s.Mode&0o7777)
	}
	unix.Lstat(filepath.Join(root, "home/u/f"), &s)
	if s.Uid != 1000 || s.Gid != 1001 || s.Mtim.Sec != mtime.Unix() {
		t.Errorf("home/u/f: uid %d gid %d mtime %d, want 1000 1001 %d", s.Uid, s.Gid, s.Mtim.Sec, mtime.Unix())
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(root, "home/u/f"), "user.color", buf); err != nil || string(buf[:n]) != "blue" {
		t.Errorf("xattr user.color = %q, %v; want blue", buf[:n], err)
	}
	unix.Lstat(filepath.Join(root, "dev/null"), &s)
	if s.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(s.Rdev) != 1 || unix.Minor(s.Rdev) != 3 {
		t.Errorf("dev/null: mode %o rdev %d:%d, want char 1:3", s.Mode, unix.Major(s.Rdev), unix.Minor(s.Rdev))
	}
	unix.Lstat(filepath.Join(root, "run/fifo"), &s)
	if s.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("run/fifo mode %o, want a fifo", s.Mode)
	}
}

func TestUnpackConvertsWhiteouts(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	err := Unpack(layer(t, dir("etc"), reg("etc/.wh.passwd", ""), reg("var/cache/.wh..wh..opq", ""),
		reg("etc/hosts", "mine"), reg("etc/.wh.hosts", ""), dir(".wh..wh.plnk"), reg(".wh..wh.plnk/1.2", "x")), root)
	if err != nil {
		t.Fatal(err)
	}
	var s unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/passwd"), &s); err != nil || s.Mode&unix.S_IFMT != unix.S_IFCHR || s.Rdev != 0 {
		t.Errorf("etc/passwd should be a 0/0 char device (overlay whiteout): mode %o rdev %d err %v", s.Mode, s.Rdev, err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); string(b) != "mine" {
		t.Errorf("a whiteout removed a file of its own layer: etc/hosts = %q", b)
	}
	if _, err := os.Lstat(filepath.Join(root, ".wh..wh.plnk")); err == nil {
		t.Errorf("AUFS metadata was unpacked")
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/.wh.passwd")); err == nil {
		t.Errorf("the .wh. marker itself was written")
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(root, "var/cache"), OpaqueXattr, buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("var/cache %s = %q, %v; want y", OpaqueXattr, buf[:n], err)
	}
}

func TestUnpackReplacesEntries(t *testing.T) {
	testenv.RequireRoot(t)
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("canary"), 0o644)
	// A symlink planted first must not redirect the later file of the same name.
	err := Unpack(layer(t, symlink("f", outside), reg("f", "new"), reg("d/x", "1"), reg("d", "now a file")), root)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "f")); string(b) != "new" {
		t.Errorf("f = %q, want new", b)
	}
	if b, _ := os.ReadFile(outside); string(b) != "canary" {
		t.Errorf("canary outside changed: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "d")); string(b) != "now a file" {
		t.Errorf("d = %q", b)
	}
}

// TestUnpackRefusesEscapes: each malicious layer fails with ErrOutsideRoot
// and the canary next to the layer root is untouched.
func TestUnpackRefusesEscapes(t *testing.T) {
	testenv.RequireRoot(t)
	tests := []struct {
		name string
		hdrs func(canaryDir string) []tar.Header
	}{
		{"dot-dot traversal", func(string) []tar.Header { return []tar.Header{reg("../canary/file", "pwned")} }},
		{"deep dot-dot", func(string) []tar.Header { return []tar.Header{reg("a/../../../canary/file", "pwned")} }},
		{"absolute path", func(c string) []tar.Header { return []tar.Header{reg(c+"/file", "pwned")} }},
		{"write through absolute symlink", func(c string) []tar.Header {
			return []tar.Header{symlink("evil", c), reg("evil/file", "pwned")}
		}},
		{"write through relative symlink", func(string) []tar.Header {
			return []tar.Header{symlink("evil", "../canary"), reg("evil/file", "pwned")}
		}},
		{"write through nested symlink", func(string) []tar.Header {
			return []tar.Header{dir("a"), symlink("a/up", "../../"), reg("a/up/canary/file", "pwned")}
		}},
		{"hardlink out of root", func(string) []tar.Header {
			return []tar.Header{hardlink("stolen", "../canary/file")}
		}},
		{"hardlink to absolute path", func(c string) []tar.Header {
			return []tar.Header{hardlink("stolen", c+"/file")}
		}},
		{"hardlink through symlink", func(c string) []tar.Header {
			return []tar.Header{symlink("evil", c), hardlink("stolen", "evil/file")}
		}},
		// A whiteout names an entry of its own folder: ".wh.." would
		// remove the folder above the layer root, canary and all.
		{"whiteout of ..", func(string) []tar.Header { return []tar.Header{reg(".wh..", "")} }},
		{"whiteout of .. below", func(string) []tar.Header { return []tar.Header{dir("a"), reg("a/.wh..", "")} }},
		{"whiteout of nothing", func(string) []tar.Header { return []tar.Header{reg(".wh.", "")} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := t.TempDir()
			canaryDir := filepath.Join(top, "canary")
			os.Mkdir(canaryDir, 0o755)
			os.WriteFile(filepath.Join(canaryDir, "file"), []byte("canary"), 0o644)
			root := filepath.Join(top, "layer")
			os.Mkdir(root, 0o755)

			err := Unpack(layer(t, tt.hdrs(canaryDir)...), root)
			if !errors.Is(err, ErrOutsideRoot) {
				t.Errorf("Unpack = %v, want %v", err, ErrOutsideRoot)
			}
			if b, _ := os.ReadFile(filepath.Join(canaryDir, "file")); string(b) != "canary" {
				t.Errorf("canary changed: %q", b)
			}
			var s unix.Stat_t
			unix.Stat(filepath.Join(canaryDir, "file"), &s)
			if s.Nlink != 1 {
				t.Errorf("canary gained a hardlink (nlink %d)", s.Nlink)
			}
			entries, _ := os.ReadDir(canaryDir)
			if len(entries) != 1 {
				t.Errorf("canary dir holds %d entries, want 1", len(entries))
			}
		})
	}
}
