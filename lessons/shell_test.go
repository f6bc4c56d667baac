package lessons

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

// TestShellLesson05 is a learner at `sudo make shell LESSON=05`: through
// a terminal (a pty), it waits for the sandbox's prompt, types each
// command of lesson 05 as the lesson shows it, and checks that what the
// terminal shows before the next prompt is the lesson's output. Then it
// types exit, and checks the sandbox left nothing behind.
func TestShellLesson05(t *testing.T) {
	testenv.Integration(t)
	testenv.RequireRoot(t)
	testenv.DebianTar(t)
	for _, tool := range []string{"mini-docker", "vethctl"} {
		testenv.Bin(t, tool)
	}
	shellBin := filepath.Join(t.TempDir(), "lesson-shell")
	build := exec.Command("go", "build", "-o", shellBin, "./internal/lessonrun/cmd/lesson-shell")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build lesson-shell: %v\n%s", err, out)
	}
	l, err := lessonrun.ParseFile(filepath.Join(testenv.RepoRoot(), "lessons", "05-networking.md"))
	if err != nil {
		t.Fatal(err)
	}
	host, err := lessonrun.DetectHost()
	if err != nil {
		t.Fatal(err)
	}

	term := startTerminal(t, exec.Command(shellBin, "--bin", testenv.BinDir(), "05"))
	banner := term.untilPrompt(t)
	m := regexp.MustCompile(`sandbox: the scratch folder (\S+),`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no scratch folder in the banner:\n%s", banner)
	}
	scratch := m[1]
	ran := 0
	for _, st := range l.Steps {
		if !st.Host.Holds(host) {
			continue
		}
		term.typeLine(t, st.Command)
		shown := term.untilPrompt(t)
		// The terminal shows the command as typed (its continuation
		// lines after bash's "> "), then its output.
		lines := strings.Split(strings.TrimSuffix(shown, "\n"), "\n")
		typed := strings.Count(st.Command, "\n") + 1
		if len(lines) < typed {
			t.Fatalf("05-networking.md:%d: the terminal did not echo the command:\n%s", st.Line, shown)
		}
		var out []string
		for _, line := range lines[typed:] {
			if !jobNotice.MatchString(line) {
				out = append(out, line)
			}
		}
		if len(out) == 1 && out[0] == "" {
			out = nil
		}
		if !lessonrun.Match(st.Expected, out) {
			t.Fatalf("05-networking.md:%d: $ %s\n%s", st.Line, st.Command, lessonrun.Diff(st.Expected, out))
		}
		ran++
	}
	term.typeLine(t, "exit")
	if err := term.wait(t); err != nil {
		t.Fatalf("lesson-shell: %v", err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("the scratch folder %s is still there after exit (%v)", scratch, err)
	}
	if _, err := os.Stat("/run/netns/red"); err == nil {
		t.Errorf("/run/netns/red exists on the host: the sandbox's namespaces leaked")
	}
	t.Logf("typed %d commands of lesson 05 into the sandbox shell; each showed the lesson's output", ran)
}

// terminal is a program on a pty, and what it has shown so far.
type terminal struct {
	ptm  *os.File
	cmd  *exec.Cmd
	buf  bytes.Buffer
	data chan []byte
}

// startTerminal starts cmd as a session leader whose controlling
// terminal is a new pty, as a login shell runs a person's commands.
func startTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	// Wide, so bash's line editor never wraps or scrolls a typed line.
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 500}); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	term := &terminal{ptm: ptm, cmd: cmd, data: make(chan []byte, 64)}
	go func() {
		for {
			b := make([]byte, 4096)
			n, err := ptm.Read(b)
			if n > 0 {
				term.data <- b[:n]
			}
			if err != nil {
				close(term.data)
				return
			}
		}
	}()
	return term
}

// typeLine types text and Enter, a line at a time.
func (term *terminal) typeLine(t *testing.T, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if _, err := term.ptm.WriteString(line + "\r"); err != nil {
			t.Fatal(err)
		}
	}
}

// jobNotice is what an interactive bash adds about background jobs
// ("[1] 4242" when one starts, "[1]+  Done ..." when it ends), which the
// lessons leave out; the sandbox's banner says so.
var jobNotice = regexp.MustCompile(`^\[[0-9]+\]([+-]? +(Done|Terminated|Killed|Exit [0-9]+)\b.*| [0-9]+)$`)

var promptRE = regexp.MustCompile(regexp.QuoteMeta(lessonrun.ShellPrompt("05")) + `[^\n]*# $`)

// untilPrompt returns what the terminal showed up to the next prompt
// (line ends as "\n"), and consumes it.
func (term *terminal) untilPrompt(t *testing.T) string {
	t.Helper()
	deadline := time.After(5 * time.Minute)
	for {
		s := strings.ReplaceAll(term.buf.String(), "\r\n", "\n")
		if loc := promptRE.FindStringIndex(s); loc != nil {
			term.buf.Reset()
			return strings.ReplaceAll(s[:loc[0]], "\r", "")
		}
		select {
		case b, ok := <-term.data:
			if !ok {
				t.Fatalf("the shell ended before its prompt; it showed:\n%s", s)
			}
			term.buf.Write(b)
		case <-deadline:
			t.Fatalf("no prompt within 5 minutes; the terminal shows:\n%s", s)
		}
	}
}

// wait waits for the program to end after exit.
func (term *terminal) wait(t *testing.T) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	go func() {
		for range term.data {
		}
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		term.cmd.Process.Kill()
		return fmt.Errorf("still running 2 minutes after exit")
	}
}
