package lessonrun

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ShellPrompt is the prompt of a learner's sandbox shell for lesson name
// ("05"), before the working directory: it says where the learner is.
func ShellPrompt(name string) string { return "[lesson " + name + " sandbox] " }

// Shell gives a person the sandbox a lesson runs in (`sudo make shell
// LESSON=05`): an interactive bash, on this process's terminal, in the
// same scratch folder, namespaces and variables Run gives the lesson
// (sandboxEnv, sandboxAttr, preludeScript). Its prompt names the lesson,
// and a failed command is followed by `[exit N]`, as the lessons show it.
// When the learner leaves, the lesson's cleanup steps run in the same
// namespaces, every process left behind is killed (this process is their
// child subreaper) and the scratch folder is removed. name labels the
// prompt; l (nil for none) gives the cleanup steps.
func Shell(name string, l *Lesson, opts Options) error {
	if opts.Host == nil {
		h, err := DetectHost()
		if err != nil {
			return err
		}
		opts.Host = h
	}
	sb, err := openSandbox()
	if err != nil {
		return err
	}
	defer sb.close()
	scratch, ctl := sb.scratch, sb.ctl

	prelude, err := preludeScript(opts, ctl)
	if err != nil {
		return err
	}
	rc := filepath.Join(ctl, "bashrc")
	if err := os.WriteFile(rc, []byte(shellRC(name, scratch, opts)), 0o644); err != nil {
		return err
	}
	script := "{ " + prelude + "\n} || { echo 'lesson sandbox: the set-up failed' >&2; exit 1; }\n" +
		"bash --noprofile --rcfile " + rc + " -i\nstatus=$?\n" + cleanupScript(l, opts.Host) + "exit $status\n"
	// The learner's own terminal type, not the runner's TERM=dumb.
	opts.Env = append(opts.Env, "TERM="+os.Getenv("TERM"))
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = scratch
	cmd.Env = sandboxEnv(scratch, ctl, opts)
	// No Setpgid: the interactive bash takes the terminal's foreground
	// itself, and gives it back when it exits.
	cmd.SysProcAttr = sandboxAttr()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	if _, ok := err.(*exec.ExitError); ok {
		return nil // the learner's last command's status, not a failure
	}
	return err
}

// shellRC is the sandbox shell's start-up file.
func shellRC(name, scratch string, opts Options) string {
	reg := ""
	if opts.RegistryStorage != "" {
		reg = ", $REGISTRY (" + RegistryAddr + ")"
	}
	return fmt.Sprintf(`# The lesson sandbox's bash start-up file (internal/lessonrun/shell.go).
# No job control (set +m): background jobs start and end silently, as in
# the lessons, and Ctrl-C reaches the command in the foreground.
set +m
bind 'set enable-bracketed-paste off' 2>/dev/null
PS1='%s\w# '
PROMPT_COMMAND='__s=$?; [ $__s = 0 ] || echo "[exit $__s]"'
cat <<'BANNER'
Lesson %s sandbox: the scratch folder %s, with network, mount and UTS
namespaces of its own (a new network namespace plays the host: nothing you
make here touches the real network), PATH with the toolkit's bin/ first,
$BUSYBOX, $DEBIAN_TAR, $MINI_DOCKER_ROOT%s.
Type the lesson's commands. A command that fails prints [exit N]; bash
also says "[1] PID" when a job starts in the background (the lessons don't).
exit (or Ctrl-D) leaves: the lesson's cleanup runs, every process left is
killed and the scratch folder is removed.
BANNER
`, ShellPrompt(name), name, scratch, reg)
}

// cleanupScript is the lesson's cleanup steps that hold on this host,
// each quiet and independent of the others.
func cleanupScript(l *Lesson, h *Host) string {
	if l == nil {
		return ""
	}
	var b strings.Builder
	for _, st := range l.Cleanup {
		if st.Host.Holds(h) {
			fmt.Fprintf(&b, "{ %s\n} >/dev/null 2>&1 </dev/null\n", st.Command)
		}
	}
	return b.String()
}
