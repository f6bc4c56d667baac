package ociruntime

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/internal/cli"
	"mini-docker/mini-docker/container"
)

// stateJSON is what `state` prints: the runtime spec's state and runc's
// two extra fields, which containerd's go-runc reads.
type stateJSON struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
}

func cmdState(r *Runtime, args []string) error {
	id, err := parseID(flags("state"), args)
	if err != nil {
		return err
	}
	st, err := r.load(id)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(stateJSON{ociState(st), st.Rootfs, st.Created}, "", "  ")
	fmt.Printf("%s\n", b)
	return nil
}

func cmdKill(r *Runtime, args []string) error {
	f := flags("kill")
	all := f.BoolP("all", "a", false, "send the signal to every process of the container's group")
	if err := f.Parse(args); err != nil {
		return cli.Usagef(Tool, "kill: %v", err)
	}
	if f.NArg() < 1 || f.NArg() > 2 {
		return cli.Usagef(Tool, "kill: want ID [SIGNAL]")
	}
	sig := unix.SIGTERM
	if f.NArg() == 2 {
		var err error
		if sig, err = container.ParseSignal(f.Arg(1)); err != nil {
			return cli.Usagef(Tool, "unknown signal %q", f.Arg(1))
		}
	}
	st, err := r.load(f.Arg(0))
	if err != nil {
		return err
	}
	if st.Status != specs.StateCreated && st.Status != specs.StateRunning {
		return fmt.Errorf("cannot kill a container that is %s", st.Status)
	}
	if *all {
		return r.signalGroup(st, sig)
	}
	if err := unix.Kill(st.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", st.Pid, err)
	}
	return nil
}

// group opens the container's group.
func group(st *State) (*cgroup.Group, error) {
	h, err := cgroup.Detect()
	if err != nil {
		return nil, err
	}
	g, err := cgroup.New(h, st.CgroupParent, st.CgroupName)
	if err != nil {
		return nil, err
	}
	g.Base, g.Made = st.CgroupBase, st.CgroupMade
	if g.Made == nil {
		g.Made = []string{} // a state from before cgroupMade: remove no parent
	}
	if !g.Exists() {
		return nil, fmt.Errorf("cgroup %s/%s: %w (looked in %s)", st.CgroupParent, st.CgroupName, cgroup.ErrNotFound, strings.Join(g.Dirs(), ", "))
	}
	return g, nil
}

// procs lists the processes of the container's group (host PIDs).
func procs(st *State) ([]int, error) {
	g, err := group(st)
	if err != nil {
		return nil, err
	}
	return g.Procs()
}

// signalGroup sends sig to every process in the container's group.
func (r *Runtime) signalGroup(st *State, sig syscall.Signal) error {
	pids, err := procs(st)
	if err != nil {
		return err
	}
	for _, p := range pids {
		unix.Kill(p, sig)
	}
	return nil
}

func cmdDelete(r *Runtime, args []string) error {
	f := flags("delete")
	force := f.BoolP("force", "f", false, "kill the container first if it runs")
	id, err := parseID(f, args)
	if err != nil {
		return err
	}
	return r.delete(id, *force)
}

// delete removes a stopped (or created) container: with force, a
// running one is killed first. Its group goes (with whatever is left
// in it), then its state, then the poststop hooks run.
func (r *Runtime) delete(id string, force bool) error {
	st, err := r.load(id)
	if err != nil {
		return err
	}
	if st.Status == specs.StateRunning && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s (use --force)", id, st.Status)
	}
	if st.Status != specs.StateStopped {
		unix.Kill(st.Pid, unix.SIGKILL)
		waitGone(st.Pid)
	}
	if st.CgroupName != "" {
		if g, err := group(st); err == nil && g.Exists() {
			if err := g.Delete(true, nil); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(r.dir(id)); err != nil {
		return err
	}
	if st.Hooks != nil {
		st.Status = specs.StateStopped
		if err := runHooks(st.Hooks.Poststop, ociState(st)); err != nil {
			fmt.Fprintf(os.Stderr, "%s: warning: %v\n", Tool, err)
		}
	}
	return nil
}

// waitGone waits for pid (not our child) to end, on its pidfd, which
// polls readable once the process has exited.
func waitGone(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // already gone
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 1000)
		if n > 0 || (err != nil && err != unix.EINTR) {
			return
		}
	}
}

func cmdList(r *Runtime, args []string) error {
	f := flags("list")
	format := f.StringP("format", "f", "table", "table or json")
	quiet := f.BoolP("quiet", "q", false, "print the IDs only")
	if err := f.Parse(args); err != nil {
		return cli.Usagef(Tool, "list: %v", err)
	}
	ids, err := r.ids()
	if err != nil {
		return err
	}
	var list []stateJSON
	for _, id := range ids {
		if st, err := r.load(id); err == nil {
			list = append(list, stateJSON{ociState(st), st.Rootfs, st.Created})
		}
	}
	switch {
	case *quiet:
		for _, s := range list {
			fmt.Println(s.ID)
		}
	case *format == "json":
		if list == nil {
			list = []stateJSON{}
		}
		b, _ := json.Marshal(list)
		fmt.Printf("%s\n", b)
	default:
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano))
		}
		w.Flush()
	}
	return nil
}

// cmdPs lists the processes of the container's group (host PIDs).
func cmdPs(r *Runtime, args []string) error {
	f := flags("ps")
	format := f.StringP("format", "f", "table", "table or json")
	id, err := parseID(f, args)
	if err != nil {
		return err
	}
	st, err := r.load(id)
	if err != nil {
		return err
	}
	pids, err := procs(st)
	if err != nil {
		return err
	}
	if *format == "json" {
		if pids == nil {
			pids = []int{}
		}
		b, _ := json.Marshal(pids)
		fmt.Printf("%s\n", b)
		return nil
	}
	fmt.Println("PID CMD")
	for _, p := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		fmt.Printf("%d %s\n", p, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
	}
	return nil
}

// exitCode reads a wait's siginfo as a shell does: the exit status, or
// 128+N for a process killed by signal N. x/sys/unix keeps siginfo_t
// opaque: si_code is its third int32, si_status sits at byte 24 (after
// si_pid and si_uid, which start the union at byte 16).
func exitCode(info *unix.Siginfo) int {
	raw := (*[32]byte)(unsafe.Pointer(info))
	code := *(*int32)(unsafe.Pointer(&raw[8]))
	status := int(*(*int32)(unsafe.Pointer(&raw[24])))
	if code == 1 { // CLD_EXITED
		return status
	}
	return 128 + status
}
