package jail

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"mini-docker/internal/explain"
)

// Prepare copies each binary into root at the same path, with everything
// the dynamic loader will need to start it: its ELF interpreter
// (PT_INTERP, the loader itself) and every shared library named by a
// DT_NEEDED entry, recursively, found the way ld.so(8) finds them. A
// script's #! interpreter is copied too. Symbolic links met on the way
// (/bin -> usr/bin, libc.so.6 -> libc-2.36.so) are recreated, so the
// jail has the host's layout. Binaries without a slash are looked up in
// the host's PATH.
//
// It returns the paths it created inside root, in order ("/bin -> usr/bin"
// for a link).
func Prepare(root string, binaries []string, ex *explain.Printer) ([]string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create rootfs %s: %w", root, err)
	}
	c := &copier{root: abs, ex: ex, done: map[string]bool{}}
	for _, b := range binaries {
		p := b
		if !strings.Contains(b, "/") {
			if p, err = exec.LookPath(b); err != nil {
				return c.made, fmt.Errorf("%s: not found in the host's PATH", b)
			}
		}
		if p, err = filepath.Abs(p); err != nil {
			return c.made, err
		}
		if err := c.add(p, ""); err != nil {
			return c.made, err
		}
	}
	return c.made, nil
}

type copier struct {
	root string
	ex   *explain.Printer
	done map[string]bool // host paths already copied
	made []string
}

// add copies one file and then what it needs to run.
func (c *copier) add(p, neededBy string) error {
	if c.done[p] {
		return nil
	}
	c.done[p] = true
	real, err := c.copyPath(p)
	if err != nil {
		if neededBy != "" {
			return fmt.Errorf("%s (needed by %s): %w", p, neededBy, err)
		}
		return err
	}
	deps, err := dependencies(real)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if err := c.add(d, p); err != nil {
			return err
		}
	}
	return nil
}

// dependencies returns what the loader will open to run the file at p:
// for an ELF file its interpreter and libraries, for a script its #!
// interpreter.
func dependencies(p string) ([]string, error) {
	f, err := elf.Open(p)
	if err != nil {
		return scriptInterpreter(p), nil
	}
	defer f.Close()
	var deps []string
	interp, err := interpreter(f)
	if err != nil {
		return nil, fmt.Errorf("read ELF interpreter of %s: %w", p, err)
	}
	if interp != "" {
		deps = append(deps, interp)
	}
	needed, err := f.ImportedLibraries() // the DT_NEEDED entries
	if err != nil {
		return nil, fmt.Errorf("read DT_NEEDED of %s: %w", p, err)
	}
	for _, name := range needed {
		lib, err := findLibrary(name, p, f)
		if err != nil {
			return nil, err
		}
		deps = append(deps, lib)
	}
	return deps, nil
}

// interpreter returns the PT_INTERP path of f ("" for a static binary).
func interpreter(f *elf.File) (string, error) {
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(prog.Open())
		if err != nil {
			return "", err
		}
		return string(bytes.TrimRight(b, "\x00")), nil
	}
	return "", nil
}

// findLibrary finds a DT_NEEDED library the way ld.so(8) does: a name
// with a slash is a path; otherwise DT_RPATH (when there is no
// DT_RUNPATH), DT_RUNPATH, the directories of /etc/ld.so.conf (what
// ld.so.cache is built from), then the default directories. A candidate
// must match the object's ELF class and machine: a 32-bit libc.so.6 in
// the path does not satisfy a 64-bit program.
func findLibrary(name, neededBy string, obj *elf.File) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	origin := filepath.Dir(neededBy)
	var dirs []string
	runpath, _ := obj.DynString(elf.DT_RUNPATH)
	if len(runpath) == 0 {
		rpath, _ := obj.DynString(elf.DT_RPATH)
		dirs = append(dirs, splitPath(rpath, origin)...)
	}
	dirs = append(dirs, splitPath(runpath, origin)...)
	dirs = append(dirs, ldSoConfDirs("/etc/ld.so.conf", 0)...)
	dirs = append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	for _, d := range dirs {
		cand := filepath.Join(d, name)
		if sameArch(cand, obj) {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%s (needed by %s): not found in %s", name, neededBy, strings.Join(dirs, ":"))
}

// splitPath splits DT_RPATH/DT_RUNPATH entries, expanding $ORIGIN (the
// directory of the object that names them).
func splitPath(entries []string, origin string) []string {
	var dirs []string
	for _, e := range entries {
		for _, d := range strings.Split(e, ":") {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// ldSoConfDirs reads the library directories of an ld.so.conf file,
// following its `include` lines (globs, relative to the file's folder).
func ldSoConfDirs(conf string, depth int) []string {
	f, err := os.Open(conf)
	if err != nil || depth > 8 {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "include "):
			pattern := strings.TrimSpace(strings.TrimPrefix(line, "include "))
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(conf), pattern)
			}
			matches, _ := filepath.Glob(pattern)
			for _, m := range matches {
				dirs = append(dirs, ldSoConfDirs(m, depth+1)...)
			}
		case strings.HasPrefix(line, "hwcap "):
		default:
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// sameArch reports whether p is an ELF file of obj's class and machine.
func sameArch(p string, obj *elf.File) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Class == obj.Class && f.Machine == obj.Machine
}

// scriptInterpreter returns the interpreter of a #! script, if p is one.
func scriptInterpreter(p string) []string {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if !strings.HasPrefix(line, "#!") {
		return nil
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 || !filepath.IsAbs(fields[0]) {
		return nil
	}
	return fields[:1]
}

// copyPath copies the host file p to the same path under the root, one
// path component at a time: a directory is created, a symbolic link is
// recreated as it is and the walk goes on at its target, the final file is
// copied. It returns the host path of the file finally copied.
func (c *copier) copyPath(p string) (string, error) {
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(strings.Trim(filepath.Clean(p), "/"), "/")
		cur, next := "/", ""
		for i, name := range parts {
			hostPath := filepath.Join(cur, name)
			st, err := os.Lstat(hostPath)
			if err != nil {
				return "", unwrapPathError(err)
			}
			// Resolve the parent inside the root, so a link already in the
			// rootfs (even an absolute one) can never make us write outside.
			parent, err := securejoin.SecureJoin(c.root, cur)
			if err != nil {
				return "", err
			}
			dst := filepath.Join(parent, name)
			switch {
			case st.Mode()&os.ModeSymlink != 0:
				target, err := os.Readlink(hostPath)
				if err != nil {
					return "", err
				}
				if _, err := os.Lstat(dst); err != nil {
					c.ex.Argv("ln", "-s", target, dst)
					if err := os.Symlink(target, dst); err != nil {
						return "", fmt.Errorf("create link %s: %w", dst, err)
					}
					c.made = append(c.made, hostPath+" -> "+target)
				}
				rest := filepath.Join(parts[i+1:]...)
				if filepath.IsAbs(target) {
					next = filepath.Join(target, rest)
				} else {
					next = filepath.Join(cur, target, rest)
				}
			case st.IsDir():
				if _, err := os.Stat(dst); err != nil {
					c.ex.Argv("mkdir", "-p", dst)
					if err := os.MkdirAll(dst, st.Mode().Perm()|0o700); err != nil {
						return "", fmt.Errorf("create %s: %w", dst, err)
					}
				}
				cur = hostPath
			case i == len(parts)-1:
				if err := c.copyFile(hostPath, dst, st.Mode().Perm()); err != nil {
					return "", err
				}
				return hostPath, nil
			default:
				return "", fmt.Errorf("%s: not a directory", hostPath)
			}
			if next != "" {
				break
			}
		}
		if next == "" {
			return "", fmt.Errorf("%s: is a directory", p)
		}
		p = next
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// copyFile copies a regular file through a temporary name and a rename,
// so a binary already there (maybe running) is replaced, never rewritten.
func (c *copier) copyFile(src, dst string, mode os.FileMode) error {
	if c.done["file:"+src] {
		return nil
	}
	c.done["file:"+src] = true
	c.ex.Argv("cp", src, dst)
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".prepare-tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode) // the umask applied at creation
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	c.made = append(c.made, src)
	return nil
}
