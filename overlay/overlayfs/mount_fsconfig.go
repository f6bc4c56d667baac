package overlayfs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/internal/explain"
)

// errNoNewAPI means the kernel lacks fsopen(2) or overlay's lowerdir+
// parameter (before Linux 6.8): MethodAuto then falls back to mount(2).
var errNoNewAPI = errors.New("the kernel has no new mount API for overlay (fsopen, lowerdir+)")

// HasLowerdirPlus reports whether the running kernel's overlay takes the
// lowerdir+ parameter (Linux 6.8). Older kernels may still have fsopen,
// but their overlay parses options the legacy way, as one string limited
// to a page, and rejects lowerdir+ only at CMD_CREATE.
func HasLowerdirPlus() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 6 || major == 6 && minor >= 8
}

// mountFsconfig mounts with the new mount API (Linux 5.2+, overlay's
// lowerdir+ since 6.8). Each option is its own fsconfig(2) call, so the
// one-page limit of mount(2)'s option string does not apply: 500 layers
// with long digest paths fit. The steps:
//
//	fsopen("overlay")                      a filesystem context
//	fsconfig(SET_STRING, "lowerdir+", dir) once per layer, top-first
//	fsconfig(SET_STRING, "upperdir"/"workdir", dir)
//	fsconfig(CMD_CREATE)                   the superblock: the rules are checked here
//	fsmount()                              a detached mount
//	move_mount(..., MERGED)                attached at the mount point
//
// When a step fails, the kernel leaves its reason in the context: reading
// the fsopen file descriptor returns lines like "e overlayfs: ...".
func mountFsconfig(o Options, p *explain.Printer) error {
	upperSteps := `fsconfig("upperdir"), fsconfig("workdir"), `
	if o.ReadOnly {
		upperSteps = ""
	}
	p.Note(`new mount API: fsopen("overlay"), fsconfig("lowerdir+") once per layer (%d), %sfsconfig(CMD_CREATE), fsmount, move_mount`,
		len(o.Lower), upperSteps)
	p.Argv(mountCommand(o, "lowerdir+")...)

	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return errNoNewAPI
		}
		if errors.Is(err, unix.ENODEV) {
			return overlayMissing()
		}
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)

	// The source shows in the mount table; mount(8) names it "overlay" too.
	if err := unix.FsconfigSetString(fsfd, "source", "overlay"); err != nil {
		return fsconfigError(fsfd, o, "source", err)
	}
	for i, dir := range o.Lower {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", dir); err != nil {
			if i == 0 && errors.Is(err, unix.EINVAL) && o.Method == MethodAuto {
				// Linux 6.5-6.7: the new API, but no lowerdir+ yet.
				return errNoNewAPI
			}
			return fsconfigError(fsfd, o, fmt.Sprintf("lower dir %s", dir), err)
		}
	}
	if !o.ReadOnly {
		if err := unix.FsconfigSetString(fsfd, "upperdir", o.Upper); err != nil {
			return fsconfigError(fsfd, o, "upper dir "+o.Upper, err)
		}
		if err := unix.FsconfigSetString(fsfd, "workdir", o.Work); err != nil {
			return fsconfigError(fsfd, o, "work dir "+o.Work, err)
		}
		if o.Volatile {
			if err := unix.FsconfigSetFlag(fsfd, "volatile"); err != nil {
				return fsconfigError(fsfd, o, "volatile", err)
			}
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fsconfigError(fsfd, o, "create the overlay", err)
	}

	attr := 0
	if o.ReadOnly {
		attr = unix.MOUNT_ATTR_RDONLY
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fsconfigError(fsfd, o, "fsmount", err)
	}
	defer unix.Close(mfd)

	// The mount is detached until move_mount attaches it: if this fails,
	// closing mfd discards it, and nothing is left behind.
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, o.Merged, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("mount overlay on %s: move_mount: %w", o.Merged, err)
	}
	return nil
}

// fsconfigError wraps err with the kernel's own explanation, read from the
// filesystem context.
func fsconfigError(fsfd int, o Options, step string, err error) error {
	msg := kernelMessages(fsfd)
	if msg != "" {
		return fmt.Errorf("mount overlay on %s: %s: %w (kernel: %s)", o.Merged, step, err, msg)
	}
	// Many of overlay's refusals go to the kernel log only.
	return hinted("the kernel logs its reason: dmesg | grep overlayfs | tail -1",
		"mount overlay on %s: %s: %w", o.Merged, step, err)
}

// kernelMessages reads the messages a filesystem context holds (see
// fsopen(2), "Message retrieval interface"): one per read, until ENODATA.
func kernelMessages(fsfd int) string {
	var msgs []string
	buf := make([]byte, 4096)
	for range 16 {
		n, err := unix.Read(fsfd, buf)
		if err != nil || n <= 0 {
			break
		}
		line := strings.TrimSpace(string(buf[:n]))
		// "e " error, "w " warning, "i " info.
		if len(line) > 2 && line[1] == ' ' {
			line = line[2:]
		}
		msgs = append(msgs, line)
	}
	return strings.Join(msgs, "; ")
}

// mountCommand is the mount(8) line equivalent to o, for --explain.
// lowerKey "lowerdir+" gives one option per layer (what util-linux 2.39+
// turns into one fsconfig call each), "lowerdir" the classic list.
func mountCommand(o Options, lowerKey string) []string {
	opts := optionString(o, lowerKey, o.Lower)
	if o.ReadOnly {
		opts = "ro," + opts // mount(8) turns it into MS_RDONLY
	}
	return []string{"mount", "-t", "overlay", "overlay", "-o", opts, o.Merged}
}

// optionString is overlay's option string: lowerdir=TOP:...:BASE (or one
// lowerdir+= per layer), then upperdir= and workdir=. It holds no "ro":
// read-only is the mount flag MS_RDONLY, and before Linux 6.5 overlay
// parsed mount(2)'s string itself and refused "ro" as an unknown option
// (EINVAL: a read-only overlay failed on 6.1).
func optionString(o Options, lowerKey string, lower []string) string {
	var opts []string
	if lowerKey == "lowerdir+" {
		for _, l := range lower {
			opts = append(opts, "lowerdir+="+escapeOption(l, false))
		}
	} else {
		esc := make([]string, len(lower))
		for i, l := range lower {
			esc[i] = escapeOption(l, true)
		}
		opts = append(opts, "lowerdir="+strings.Join(esc, ":"))
	}
	if !o.ReadOnly {
		opts = append(opts, "upperdir="+escapeOption(o.Upper, false), "workdir="+escapeOption(o.Work, false))
		if o.Volatile {
			opts = append(opts, "volatile")
		}
	}
	return strings.Join(opts, ",")
}

var optionEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`)

// escapeOption escapes what overlay's option parser splits on: ',' between
// options, and ':' between lower layers in a lowerdir list.
func escapeOption(s string, colon bool) string {
	s = optionEscaper.Replace(s)
	if colon {
		s = strings.ReplaceAll(s, ":", `\:`)
	}
	return s
}
