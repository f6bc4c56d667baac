package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"mini-docker/bench/proc"
	"mini-docker/bench/report"
)

// BenchExec is benchmark 8: a command run in a running container (exec
// latency), side by side with docker exec and runc exec on containers of
// the same image, each a PID 1 sleeping.
func BenchExec(e *Env, r *report.Report) error {
	const bench = "8 exec in a running container"
	w, n := e.runs(3, 1), e.runs(30, 5)
	md := e.MD()
	out, err := exec.Command(md, "--root", e.Root, "run", "-d", "--network", "none", "--name", "mdb-exec", e.Ref, "sleep", "600").CombinedOutput()
	if err != nil {
		return fmt.Errorf("start mdb-exec: %v %s", err, out)
	}
	defer exec.Command(md, "--root", e.Root, "rm", "-f", "mdb-exec").Run()
	mdS, err := Hyperfine(e, Cmd{Name: "mini-docker exec", Argv: []string{md, "--root", e.Root, "exec", "mdb-exec", "true"}}, w, n)
	if err != nil {
		return err
	}
	mdRow := r.Sample(bench, "mini-docker exec C true", "ms", mdS)

	runcID, stop, err := e.runcDetached("mdb-runc-exec")
	if err != nil {
		return err
	}
	defer stop()
	runcS, err := Hyperfine(e, Cmd{Name: "runc exec", Argv: []string{"runc", "--root", e.RuncRoot, "exec", runcID, "true"}}, w, n)
	if err != nil {
		return err
	}
	runcRow := r.Sample(bench, "runc exec C true", "ms", runcS)
	mdRow.Vs(runcRow).AtMost(1, "runc exec")
	if !e.Docker {
		r.Add(report.Row{Bench: bench, Subject: "docker exec C true", Status: "n/a: " + e.NoDocker})
		return nil
	}
	did, err := e.dockerDetached()
	if err != nil {
		return err
	}
	defer e.dockerRemove(r, bench, []string{did})
	dS, err := Hyperfine(e, Cmd{Name: "docker exec", Argv: []string{"docker", "exec", did, "true"}}, w, e.runs(20, 3))
	if err != nil {
		return err
	}
	dRow := r.Sample(bench, "docker exec C true", "ms", dS)
	r.Again(mdRow).Vs(dRow)
	return nil
}

// BenchStop is benchmark 9: stop -t 1 of a container whose PID 1 ignores
// SIGTERM (sleep as PID 1: the kernel delivers to a namespace's init only
// the signals it handles, so SIGTERM does nothing and stop must wait its
// second, then SIGKILL), mini-docker against docker. A fresh container is
// started before each timed run, untimed.
func BenchStop(e *Env, r *report.Report) error {
	const bench = "9 stop -t 1, PID 1 ignores SIGTERM"
	w, n := e.runs(1, 1), e.runs(10, 3)
	md := e.MD()
	defer exec.Command(md, "--root", e.Root, "rm", "-f", "mdb-stop").Run()
	mdS, err := Hyperfine(e, Cmd{Name: "mini-docker stop",
		Prepare: proc.ShellJoin([]string{"sh", "-c", fmt.Sprintf("%[1]s --root %[2]s rm -f mdb-stop >/dev/null 2>&1; %[1]s --root %[2]s run -d --network none --name mdb-stop %[3]s sleep 600 >/dev/null", md, e.Root, e.Ref)}),
		Argv:    []string{md, "--root", e.Root, "stop", "-t", "1", "mdb-stop"}}, w, n)
	if err != nil {
		return err
	}
	mdRow := r.Sample(bench, "mini-docker stop -t 1 (sleep as PID 1)", "ms", mdS)
	mdRow.Note = "1 s of it is the grace period"
	if !e.Docker {
		r.Add(report.Row{Bench: bench, Subject: "docker stop -t 1", Status: "n/a: " + e.NoDocker})
		return nil
	}
	defer e.dockerRemove(r, bench, []string{"mdb-stop"})
	dS, err := Hyperfine(e, Cmd{Name: "docker stop",
		Prepare: proc.ShellJoin([]string{"sh", "-c", fmt.Sprintf("docker rm -f mdb-stop >/dev/null 2>&1; docker run -d --network none --name mdb-stop %s sleep 600 >/dev/null", e.Ref)}),
		Argv:    []string{"docker", "stop", "-t", "1", "mdb-stop"}}, w, e.runs(10, 3))
	if err != nil {
		return err
	}
	dRow := r.Sample(bench, "docker stop -t 1 (sleep as PID 1)", "ms", dS)
	mdRow.Vs(dRow).AtMost(1, "docker stop")
	return nil
}

// runcDetached starts a runc container running sleep 600 from the
// bench's rootfs (a second bundle: the same config.json with another
// command and cgroup) and returns its ID and how to remove it.
func (e *Env) runcDetached(id string) (string, func(), error) {
	b, err := os.ReadFile(filepath.Join(e.Bundle, "config.json"))
	if err != nil {
		return "", nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", nil, err
	}
	cfg["process"].(map[string]any)["args"] = []string{"sleep", "600"}
	cfg["linux"].(map[string]any)["cgroupsPath"] = "/" + runcCgroupParent + "/" + id
	dir := filepath.Join(e.Tmp, "bundle-"+id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if b, err = json.Marshal(cfg); err == nil {
		err = os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
	}
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		exec.Command("runc", "--root", e.RuncRoot, "delete", "-f", id).Run()
		os.RemoveAll(dir)
	}
	// The container inherits runc's stdout and stderr: a file, not a
	// pipe, or reading runc's output would wait for the container's end.
	logPath := filepath.Join(dir, "runc.log")
	logf, err := os.Create(logPath)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer logf.Close()
	cmd := exec.Command("runc", "--root", e.RuncRoot, "run", "-d", "--bundle", dir, id)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logPath)
		stop()
		return "", nil, fmt.Errorf("runc run -d %s: %v %s", id, err, out)
	}
	return id, stop, nil
}

// dockerDetached starts a Docker container running sleep 600 and returns its ID.
func (e *Env) dockerDetached() (string, error) {
	out, err := exec.Command("docker", "run", "-d", "--network", "none", e.Ref, "sleep", "600").Output()
	if err != nil {
		return "", fmt.Errorf("docker run -d: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// dockerRemove removes Docker containers with docker rm -f, waits until
// the engine no longer lists them and no containerd shim of theirs is
// left (rm -f returns before the last shims are gone), and says in the
// table what it removed and what, if anything, stayed.
func (e *Env) dockerRemove(r *report.Report, bench string, ids []string) {
	ids = proc.DockerIDs(ids)
	if len(ids) == 0 {
		return
	}
	exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	left, shims := ids, 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		left = proc.DockerStillThere(ids)
		if shims = len(proc.ShimsOf(ids)); len(left) == 0 && shims == 0 {
			break
		}
		if len(left) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, left...)...).Run()
		}
	}
	if len(left) == 0 && shims == 0 {
		r.Finding("%s: removed its %d Docker container(s) (docker rm -f, then waited until neither the engine nor a containerd shim had any of them).", bench, len(ids))
		return
	}
	r.Finding("%s: after docker rm -f and 60 s, %d of its %d Docker container(s) and %d shim(s) were still there.", bench, len(left), len(ids), shims)
}
