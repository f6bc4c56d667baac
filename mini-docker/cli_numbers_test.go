package main

// Files and numbers (issue 18, item 3): stats from the cgroup files,
// top, rename, events from the recorded state changes, system df, and
// the container/image management aliases.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStatsTopRename: stats reads the limit and usage the kernel keeps
// for the container's group (the same files cgroupctl stats reads), a
// busy loop shows CPU time; top lists the container's processes with the
// host's PIDs; rename changes the name everything finds it by.
func TestStatsTopRename(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-d", "--network", "none", "--name", "busy", "-m", "48m", "--pids-limit", "50", ref, "sh", "-c", "while :; do :; done")
	t.Cleanup(func() { h.host("rm", "-f", "busy", "idle") })

	out := h.mustHost("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}", "busy")
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 4 || f[0] != "busy" || !strings.HasSuffix(f[1], " / 48MiB") || f[2] != "1" {
		t.Fatalf("stats: %q", out)
	}
	if cpu, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64); err != nil || cpu <= 0 {
		t.Errorf("a busy loop uses no CPU: %q", f[3])
	}
	head := strings.Fields(strings.Split(h.mustHost("container", "stats", "--no-stream"), "\n")[0])
	if strings.Join(head, " ") != "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" {
		t.Errorf("stats header: %v", head)
	}
	if _, errOut, code := h.host("stats", "--no-stream", "nosuch"); code != 1 || !strings.Contains(errOut, "No such container: nosuch") {
		t.Errorf("stats nosuch: exit %d %s", code, errOut)
	}

	var pid int
	fmt.Sscan(h.mustHost("inspect", "-f", "{{.State.Pid}}", "busy"), &pid)
	top := h.mustHost("top", "busy", "-o", "pid,comm")
	if lines := strings.Split(strings.TrimSpace(top), "\n"); len(lines) != 2 || strings.Fields(lines[1])[0] != strconv.Itoa(pid) {
		t.Errorf("top -o pid,comm (pid %d):\n%s", pid, top)
	}

	h.mustHost("rename", "busy", "idle")
	if got := strings.TrimSpace(h.mustHost("container", "ls", "--format", "{{.Names}}")); got != "idle" {
		t.Errorf("after rename: %q", got)
	}
	h.mustHost("run", "-d", "--network", "none", "--name", "busy", ref, "sleep", "60")
	if _, errOut, code := h.host("rename", "busy", "idle"); code != 1 || !strings.Contains(errOut, `Conflict. The container name "/idle" is already in use`) {
		t.Errorf("rename to a taken name: exit %d %s", code, errOut)
	}
	h.mustHost("container", "stop", "-t", "1", "idle")
	if _, errOut, code := h.host("top", "idle"); code != 1 || !strings.Contains(errOut, "is not running") {
		t.Errorf("top of a stopped container: exit %d %s", code, errOut)
	}
}

// TestEventsAndDf: the state changes a container goes through are
// recorded and listed as docker events lists them; system df counts the
// image's layers and the container's upper layer.
func TestEventsAndDf(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	start := time.Now().Format(time.RFC3339Nano)
	if _, _, code := h.host("run", "--network", "none", "--name", "ev", "--label", "tier=web", ref, "sh", "-c", "head -c 100000 /dev/zero > /big; exit 2"); code != 2 {
		t.Fatalf("run: exit %d", code)
	}
	df := h.mustHost("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}")
	if !strings.Contains(df, "Images|1|1|") || !strings.Contains(df, "Containers|1|0|100kB") {
		t.Errorf("system df:\n%s", df)
	}
	h.mustHost("rename", "ev", "ev2")
	h.mustHost("container", "rm", "ev2")
	out := h.mustHost("events", "--since", start, "--until", "0s", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.tier}}")
	if got := strings.Join(strings.Split(strings.TrimSpace(out), "\n"), ","); got != "create ev web,start ev web,die ev web,rename ev2 web,destroy ev2 web" {
		t.Errorf("events: %s", got)
	}
	if got := strings.TrimSpace(h.mustHost("events", "--since", start, "--until", "0s", "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}")); got != "2" {
		t.Errorf("die's exit code: %q", got)
	}
	if got := h.mustHost("events", "--since", start, "--until", "0s", "--filter", "container=nosuch"); got != "" {
		t.Errorf("filtered out: %q", got)
	}
	line := strings.Split(h.mustHost("events", "--since", start, "--until", "0s"), "\n")[0]
	if f := strings.Fields(line); len(f) < 5 || f[1] != "container" || f[2] != "create" || len(f[3]) != 64 || !strings.Contains(line, "(image="+ref+", name=ev, tier=web)") {
		t.Errorf("default line: %q", line)
	}
	if _, err := os.Stat(filepath.Join(h.root, "events.log")); err != nil {
		t.Error(err)
	}
}
