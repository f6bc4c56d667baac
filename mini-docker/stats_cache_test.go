package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"
)

// TestStatsMemUsageLessPageCache: stats' MEM USAGE is the group's usage
// less its inactive page cache, as docker's CLI computes it (v1
// memory.usage_in_bytes - total_inactive_file, v2 memory.current -
// inactive_file): after the container writes 32 MiB into a file, the
// figure is the kernel's at about that moment, not the usage with the
// cache in it.
func TestStatsMemUsageLessPageCache(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	h.mustHost("run", "-d", "--network", "none", "--name", "cache", ref, "sh", "-c", "dd if=/dev/zero of=/f bs=1M count=32 2>/dev/null; echo written; sleep 300")
	t.Cleanup(func() { h.host("rm", "-f", "cache") })
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(h.mustHost("logs", "cache"), "written"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the container never wrote its file")
		}
	}
	pid := strings.TrimSpace(h.mustHost("inspect", "--format", "{{.State.Pid}}", "cache"))
	dirs, v2 := cgroupDirs(t, pid)
	usage, key := filepath.Join(dirs["memory"], "memory.usage_in_bytes"), "total_inactive_file"
	if v2 {
		usage, key = filepath.Join(dirs["memory"], "memory.current"), "inactive_file"
	}
	noCache := func() (all, less int64) {
		all, _ = strconv.ParseInt(readTrim(t, usage), 10, 64)
		return all, all - statField(t, filepath.Join(dirs["memory"], "memory.stat"), key)
	}
	all0, less0 := noCache()
	out := h.mustHost("stats", "--no-stream", "--format", "{{.MemUsage}}", "cache")
	all1, less1 := noCache()
	got, err := units.RAMInBytes(strings.TrimSpace(strings.Split(out, "/")[0]))
	if err != nil {
		t.Fatalf("stats: %q: %v", out, err)
	}
	t.Logf("usage %d..%d bytes, less the inactive page cache %d..%d, stats %d", all0, all1, less0, less1, got)
	const slack = 2 << 20
	if got < min(less0, less1)-slack || got > max(less0, less1)+slack {
		t.Errorf("stats MEM USAGE %d, want the usage less inactive file pages, %d..%d", got, less0, less1)
	}
	if all0-less0 >= 16<<20 && got > all0-8<<20 {
		t.Errorf("stats MEM USAGE %d has the page cache in it (usage %d, inactive file %d)", got, all0, all0-less0)
	}
}
