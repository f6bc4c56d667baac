package convert

import (
	"fmt"
	"strings"
	"testing"

	"mini-docker/cgroupctl/cgroup"
)

// hybrid is a hybrid host's cgroup mounts, as /proc/self/mountinfo shows them.
const hybrid = `32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

// TestSelfBase reads where a relative cgroupsPath starts, from
// /proc/self/cgroup: the process's own group in each tree (its parent on
// a v2 host), the root for a group the mount does not show.
func TestSelfBase(t *testing.T) {
	self := "9:name=systemd:/user.slice/s1\n4:memory:/process_api/c3\n2:cpuacct:/\n1:cpu:/../outside\n0::/user.slice/s1\n"
	h, err := cgroup.Parse([]byte(hybrid), []byte(self))
	if err != nil {
		t.Fatal(err)
	}
	got := SelfBase(h)
	want := map[string]string{
		"/sys/fs/cgroup/memory": "/process_api/c3", "/sys/fs/cgroup/cpu": "/", "/sys/fs/cgroup/cpuacct": "/",
		"/sys/fs/cgroup/freezer": "/", "/sys/fs/cgroup/systemd": "/user.slice/s1", "/sys/fs/cgroup/unified": "/user.slice/s1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hybrid SelfBase = %v\nwant %v", got, want)
	}
	h, err = cgroup.Parse([]byte("26 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), []byte("0::/user.slice/s1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := SelfBase(h); got["/sys/fs/cgroup"] != "/user.slice" || len(got) != 1 {
		t.Errorf("v2 SelfBase = %v, want the own group's parent", got)
	}
	bound := strings.Replace(hybrid, "0:32 / /sys/fs/cgroup/memory", "0:32 /process_api /sys/fs/cgroup/memory", 1)
	h, _ = cgroup.Parse([]byte(bound), []byte(self))
	if got := SelfBase(h)["/sys/fs/cgroup/memory"]; got != "/c3" {
		t.Errorf("SelfBase in a bound subtree = %q, want /c3", got)
	}
}
