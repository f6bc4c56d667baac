package lessonrun

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mini-docker/internal/procfs"
	"mini-docker/internal/testenv/dockerimages"
)

// Options says where a lesson runs.
type Options struct {
	// BinDir is put first on PATH (the built bin/).
	BinDir string
	// Env adds variables to the shell's environment.
	Env []string
	// RegistryStorage, when set, is served by a docker-registry started
	// inside the lesson's network namespace on 127.0.0.1:5000 ($REGISTRY).
	RegistryStorage string
	// StepTimeout bounds each command (default 300 s).
	StepTimeout time.Duration
	// Log receives the host line, then a line per command run or
	// skipped (nil: silent).
	Log io.Writer
	// Host is what the host is, for blocks marked host=COND (nil: Run
	// detects it).
	Host *Host
}

// Failure is a lesson whose command printed something else than the
// lesson shows.
type Failure struct {
	Path     string
	Step     Step
	Actual   []string
	Expected []string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%s:%d:%s $ %s\n%s", f.Path, f.Step.Line, hostNote(f.Step), f.Step.Command, Diff(f.Expected, f.Actual))
}

// hostNote is " (host=COND)" for a step of a host-conditional block.
func hostNote(st Step) string {
	if st.Host.Text == "" {
		return ""
	}
	return " (host=" + st.Host.Text + ")"
}

// RegistryAddr is where the lesson's own registry listens, inside the
// lesson's network namespace.
const RegistryAddr = "127.0.0.1:5000"

// Run runs the lesson's steps in one bash shell, in new network, mount
// and UTS namespaces, then its cleanup steps, then kills every process
// the lesson left behind. Steps of a block whose host condition does not
// hold on this host are skipped. It returns a *Failure on the first
// mismatch, and an error when the lesson passed but left images named
// for its registry in Docker's engine (docker load of a saved image).
func Run(l *Lesson, opts Options) (err error) {
	if opts.StepTimeout == 0 {
		opts.StepTimeout = 300 * time.Second
	}
	if opts.Host == nil {
		if opts.Host, err = DetectHost(); err != nil {
			return err
		}
	}
	logf := func(format string, a ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format, a...)
		}
	}
	logf("%s\n", opts.Host)
	defer dockerLeftovers(l.Path, &err)()
	sb, err := openSandbox()
	if err != nil {
		return err
	}
	sh, err := startShell(sb.scratch, sb.ctl, opts)
	if err != nil {
		sb.close()
		return err
	}
	defer func() {
		sh.close()
		sb.close()
	}()

	if err := sh.prelude(opts); err != nil {
		return fmt.Errorf("%s: setting up the lesson's shell: %w", l.Path, err)
	}
	var failure error
	// Skipped steps are logged once per run of them: "03-x.md:55-59: 3
	// commands for host=cgroup-v2 skipped (not this host)".
	var skipped []Step
	logSkipped := func() {
		if len(skipped) > 0 {
			first, last := skipped[0], skipped[len(skipped)-1]
			logf("%s:%d-%d: %d command(s) for host=%s skipped (not this host)\n",
				filepath.Base(l.Path), first.Line, last.Line, len(skipped), first.Host.Text)
			skipped = nil
		}
	}
	for _, st := range l.Steps {
		if !st.Host.Holds(opts.Host) {
			if len(skipped) > 0 && skipped[0].Host.Text != st.Host.Text {
				logSkipped()
			}
			skipped = append(skipped, st)
			continue
		}
		logSkipped()
		logf("%s:%d:%s $ %s\n", filepath.Base(l.Path), st.Line, hostNote(st), firstLine(st.Command))
		actual, err := sh.run(st.Command, opts.StepTimeout)
		if err != nil {
			failure = fmt.Errorf("%s:%d:%s $ %s\n%w", l.Path, st.Line, hostNote(st), st.Command, err)
			break
		}
		if !Match(st.Expected, actual) {
			failure = &Failure{Path: l.Path, Step: st, Actual: actual, Expected: st.Expected}
			break
		}
	}
	logSkipped()
	for _, st := range l.Cleanup {
		if sh.dead {
			break
		}
		if !st.Host.Holds(opts.Host) {
			continue
		}
		if out, err := sh.run(st.Command, opts.StepTimeout); err != nil {
			logf("%s:%d: cleanup: %v %s\n", filepath.Base(l.Path), st.Line, err, strings.Join(out, "\n"))
		}
	}
	return failure
}

// dockerLeftovers notes the images Docker's engine holds named for the
// lesson's registry (docker load of a saved image names them so), and
// returns the check to defer: when the lesson passed, a name it added
// and did not remove is its error.
func dockerLeftovers(path string, err *error) func() {
	before := dockerimages.Names(RegistryAddr)
	return func() {
		var left []string
		for _, n := range dockerimages.Names(RegistryAddr) {
			if !slices.Contains(before, n) {
				left = append(left, n)
			}
		}
		if *err == nil && len(left) > 0 {
			*err = fmt.Errorf("%s: its cleanup left images in Docker's engine: %s (docker rmi them in a cleanup block)", path, strings.Join(left, " "))
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

type shell struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	out    string // file each step's output goes to
	marker string
	dead   bool
}

func startShell(scratch, ctl string, opts Options) (*shell, error) {
	env := sandboxEnv(scratch, ctl, opts)
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = scratch
	cmd.Env = env
	cmd.SysProcAttr = sandboxAttr()
	cmd.SysProcAttr.Setpgid = true
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the lesson shell: %w", err)
	}
	sh := &shell{cmd: cmd, stdin: stdin, lines: make(chan string, 64), out: filepath.Join(ctl, "out"),
		marker: fmt.Sprintf("__lesson_step_done_%d__", time.Now().UnixNano())}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1024*1024), 1024*1024)
		for sc.Scan() {
			sh.lines <- sc.Text()
		}
		close(sh.lines)
	}()
	return sh, nil
}

// prelude runs preludeScript in the lesson's shell.
func (sh *shell) prelude(opts Options) error {
	script, err := preludeScript(opts, filepath.Dir(sh.out))
	if err != nil {
		return err
	}
	out, err := sh.run(script, time.Minute)
	if err != nil {
		return err
	}
	if len(out) > 0 && strings.HasPrefix(out[len(out)-1], "[exit ") {
		return fmt.Errorf("%s", strings.Join(out, "\n"))
	}
	return nil
}

// run sends one command to the shell, waits for it, and returns what it
// printed (stdout and stderr together), with "[exit N]" added when its
// status is not zero.
func (sh *shell) run(command string, timeout time.Duration) ([]string, error) {
	if sh.dead {
		return nil, fmt.Errorf("the lesson's shell has exited")
	}
	script := fmt.Sprintf("{ %s\n} >%s 2>&1 </dev/null; echo \"%s $?\"\n", command, sh.out, sh.marker)
	if _, err := io.WriteString(sh.stdin, script); err != nil {
		sh.dead = true
		return nil, fmt.Errorf("the lesson's shell has exited: %w", err)
	}
	deadline := time.After(timeout)
	code := -1
	for code < 0 {
		select {
		case line, ok := <-sh.lines:
			if !ok {
				sh.dead = true
				out, _ := readLines(sh.out)
				return out, fmt.Errorf("the shell exited during the command (it ran `exit`?); output:\n%s", strings.Join(out, "\n"))
			}
			if rest, found := strings.CutPrefix(line, sh.marker+" "); found {
				code, _ = strconv.Atoi(rest)
			}
		case <-deadline:
			sh.dead = true
			syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
			out, _ := readLines(sh.out)
			return out, fmt.Errorf("timed out after %s; output so far:\n%s", timeout, strings.Join(out, "\n"))
		}
	}
	out, err := readLines(sh.out)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		out = append(out, fmt.Sprintf("[exit %d]", code))
	}
	return out, nil
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}

func (sh *shell) close() {
	sh.stdin.Close()
	done := make(chan struct{})
	go func() { sh.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
}

// children lists the PIDs whose parent is this process.
func children() map[int]bool {
	self := os.Getpid()
	out := map[int]bool{}
	for _, pid := range procfs.PIDs() {
		if st, err := procfs.ReadStat(pid); err == nil && st.Ppid == self {
			out[pid] = true
		}
	}
	return out
}

// killNewChildren kills and reaps every child that was not there before
// the lesson: orphans the lesson left, reparented to us. Killing one may
// orphan its own children to us, so repeat until none are left.
func killNewChildren(before map[int]bool) {
	for round := 0; round < 50; round++ {
		found := false
		for pid := range children() {
			if before[pid] {
				continue
			}
			found = true
			syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
		if !found {
			return
		}
	}
}
