package main

import (
	"encoding/json"
	"fmt"
	"mini-docker/bench/dockerspec"
	"os"
	"os/exec"
	"path/filepath"
)

// runcCgroupParent is the parent group runc's containers go in (as
// Docker's go in /docker), removed at the end.
const runcCgroupParent = "mini-docker-bench-runc"

// makeBundle writes config.json for runc, with the seccomp profile as
// seccompctl resolves it (the same JSON dockerd hands runc).
func (e *Env) makeBundle() error {
	e.Bundle = filepath.Join(e.Tmp, "bundle")
	e.RuncRoot = filepath.Join(e.Tmp, "runc-state")
	if err := os.MkdirAll(e.Bundle, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(filepath.Join(e.Opt.Bin, "seccompctl"), "dump", "--oci", "default").Output()
	if err != nil {
		return fmt.Errorf("seccompctl dump --oci default: %w", err)
	}
	var seccomp any
	if err := json.Unmarshal(out, &seccomp); err != nil {
		return fmt.Errorf("seccompctl dump --oci: %w", err)
	}
	const hostname = "0123456789ab"
	files := map[string]string{
		"hostname":    hostname + "\n",
		"hosts":       "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"resolv.conf": "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
	}
	var etcMounts []any
	for name, content := range files {
		p := filepath.Join(e.Bundle, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
		etcMounts = append(etcMounts, map[string]any{"destination": "/etc/" + name, "type": "bind",
			"source": p, "options": []string{"rbind", "rprivate"}})
	}
	cfg := dockerspec.Config(runcCgroupParent, e.Rootfs, hostname, etcMounts, seccomp)
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.Bundle, "config.json"), b, 0o644); err != nil {
		return err
	}
	e.onClose(func() {
		ctrls, _ := filepath.Glob("/sys/fs/cgroup/*/" + runcCgroupParent)
		more, _ := filepath.Glob("/sys/fs/cgroup/*/*/" + runcCgroupParent) // cpu,cpuacct style links
		for _, d := range append(ctrls, more...) {
			os.Remove(filepath.Join(d, "bench"))
			os.Remove(d)
		}
	})
	// One run now, so a broken bundle fails here with runc's message.
	if out, err := exec.Command("runc", e.RuncArgs()...).CombinedOutput(); err != nil {
		return fmt.Errorf("runc run of the bundle: %v\n%s", err, out)
	}
	return nil
}

// RuncArgs is the runc command line of one container start.
func (e *Env) RuncArgs() []string {
	return []string{"--root", e.RuncRoot, "run", "--bundle", e.Bundle, "mdb-runc"}
}
