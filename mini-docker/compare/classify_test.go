package compare

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func side(lines string) Side {
	k, v := Parse(lines)
	return Side{Keys: k, Values: v}
}

func TestParseKeepsOrderAndEmptyValues(t *testing.T) {
	keys, values := Parse("b: 2\na: 1\ngroups: \nnoise without colon\n")
	if strings.Join(keys, ",") != "b,a,groups" {
		t.Fatalf("keys %q", keys)
	}
	if values["groups"] != "" || values["a"] != "1" {
		t.Fatalf("values %q", values)
	}
}

// TestClassify: one row per rule, and the rows no rule explains.
func TestClassify(t *testing.T) {
	id1, id2 := "4450905f483e", "75e84b170f27"
	long1 := "/docker/" + id1 + strings.Repeat("a", 52)
	long2 := "/mini-docker/" + id2 + strings.Repeat("b", 52)
	tests := []struct {
		key, docker, mini string
		ctx               Context
		want              Mark
	}{
		{"cap.effective", "00000000a80425fb", "00000000a80425fb", Context{}, Same},
		{"cap.effective", "00000000a80425fb", "000001ffffffffff", Context{}, Differs},
		{"hostname", id1, id2, Context{}, Must},
		{"hostname", "box", "other", Context{}, Differs},
		{"pid1.cmd", "/p --host-ns=net=1,mnt=2", "/p --host-ns=net=3,mnt=2", Context{}, Same},
		{"pid1.cmd", "/p --host-ns=net=1", "/q --host-ns=net=1x", Context{}, Differs},
		{"mount./", "overlay rw,relatime rw,lowerdir=/a:/b,upperdir=/c,workdir=/d",
			"overlay rw,relatime rw,lowerdir+=/x,lowerdir+=/y,upperdir=/z,workdir=/w,uuid=on", Context{}, Must},
		{"mount./", "overlay rw,relatime rw,lowerdir=/a", "overlay ro,relatime rw,lowerdir=/x", Context{}, Differs},
		{"mount./", "overlay rw,relatime rw,lowerdir=/a,upperdir=/c", "overlay rw,relatime rw,lowerdir+=/x,upperdir=/z,fsync=volatile", Context{}, Must},
		{"mount./", "overlay rw,relatime rw,lowerdir=/a,upperdir=/c", "overlay rw,relatime rw,lowerdir=/x,upperdir=/z,volatile,xino=on", Context{}, Differs},
		{"mount./etc/hosts", "ext4 rw,relatime rw,discard root=/var/lib/docker/x", "tmpfs rw,relatime rw root=/run/y", Context{}, Must},
		{"mount./etc/hosts", "ext4 rw,relatime rw", "ext4 ro,relatime rw", Context{}, Differs},
		{"cgroup.path.memory", long1, long2, Context{}, Must},
		{"cgroup.path.devices", long1, "/", Context{}, Differs},
		{"mount./sys/fs/cgroup/cpu", "cgroup ro rw,cpu root=" + long1, "cgroup ro rw,cpu root=" + long2, Context{}, Must},
		{"mount./sys/fs/cgroup/cpu", "cgroup ro rw,cpu root=" + long1, "cgroup ro rw,cpu", Context{}, Differs},
		{"net.links", "lo", "lo eth0", Context{}, Must},
		{"net.links", "lo", "lo eth0", Context{DockerBridge: true}, Differs},
		{"net.links", "lo", "lo eth0", Context{RunFlags: []string{"--network", "none"}}, Differs},
		{"net.addr.eth0", Absent, "172.18.0.2/16", Context{}, Must},
		{"net.addr.eth0", "172.17.0.2/16 fe80::42:acff:fe11:2/64", "172.18.0.2/16 fe80::1/64", Context{DockerBridge: true}, Must},
		{"net.addr.eth0", "172.17.0.2/16", "172.18.0.2/24", Context{DockerBridge: true}, Differs},
		{"net.mac.eth0", "02:42:ac:11:00:02", "0a:8c:42:65:36:66", Context{DockerBridge: true}, Must},
		{"dev./dev/core", Absent, "-> /proc/kcore", Context{}, Differs},
		{"rlimit.nofile", "20000 20000", "1024 524288", Context{}, Must},
		{"rlimit.nofile", "1024 2048", "1024 524288", Context{RunFlags: []string{"--ulimit", "nofile=1024:2048"}}, Differs},
		{"rlimit.nofile", "1024 2048", "1024 524288", Context{RunFlags: []string{"--ulimit=nofile=1024:2048"}}, Differs},
		{"rlimit.nproc", "96363 96363", "1000 1000", Context{RunFlags: []string{"--ulimit", "nofile=1024:2048"}}, Must},
		{"net.links", "lo eth0", "lo mini-docker0", Context{DockerBridge: true, OtherHostNet: true, RunFlags: []string{"--network", "host"}}, Must},
		{"net.links", "lo eth0", "lo mini-docker0", Context{DockerBridge: true, OtherHostNet: false, RunFlags: []string{"--network=host"}}, Differs},
		{"net.links", "lo eth0", "lo mini-docker0", Context{DockerBridge: true, OtherHostNet: true, RunFlags: []string{"--network", "none"}}, Differs},
		{"masked./proc/interrupts", "file read=OK write=OK", "chardev read=empty write=OK", Context{}, Must},
		{"masked./proc/interrupts", "chardev read=empty write=OK", "file read=OK write=OK", Context{}, Differs},
		{"mount./proc/interrupts", Absent, "tmpfs rw,nosuid rw,size=65536k,mode=755 root=/null", Context{}, Must},
	}
	for _, tc := range tests {
		d := side("seccomp: 2\n" + tc.key + ": " + tc.docker + "\n")
		m := side("seccomp: 2\n" + tc.key + ": " + tc.mini + "\n")
		if tc.docker == Absent {
			d = side("seccomp: 2\n")
		}
		rows := Classify(d, m, tc.ctx)
		got := rows[len(rows)-1]
		if got.Key != tc.key || got.Mark != tc.want {
			t.Errorf("%s: docker %q, mini-docker %q: got %s (%s), want %s", tc.key, tc.docker, tc.mini, got.Mark, got.Why, tc.want)
		}
	}
}

func TestEtcHostsOwnLine(t *testing.T) {
	base := "127.0.0.1\tlocalhost ; ::1\tlocalhost ip6-localhost"
	d := side("hostname: 4450905f483e\netc.hosts: " + base + "\n")
	m := side("hostname: 75e84b170f27\netc.hosts: " + base + " ; 172.18.0.2\t75e84b170f27\n")
	if row := Classify(d, m, Context{})[1]; row.Mark != Must {
		t.Errorf("own line: got %s", row.Mark)
	}
	m = side("hostname: 75e84b170f27\netc.hosts: " + base + " ; 10.0.0.1\tintruder\n")
	if row := Classify(d, m, Context{})[1]; row.Mark != Differs {
		t.Errorf("someone else's line: got %s, want ✗", row.Mark)
	}
}

func TestNewerSeccompProfileOnlyUnderFilters(t *testing.T) {
	d := side("seccomp: 2\nsyscall.socket_alg: EAFNOSUPPORT\n")
	m := side("seccomp: 2\nsyscall.socket_alg: EPERM\n")
	if row := Classify(d, m, Context{})[1]; row.Mark != Must {
		t.Errorf("both filtered: got %s", row.Mark)
	}
	m = side("seccomp: 0\nsyscall.socket_alg: EPERM\n")
	if row := Classify(d, m, Context{})[1]; row.Mark != Differs {
		t.Errorf("mini-docker unfiltered: got %s, want ✗", row.Mark)
	}
}

// TestMergeKeys: keys only mini-docker printed land after their
// neighbour, not at the end.
func TestMergeKeys(t *testing.T) {
	got := strings.Join(mergeKeys([]string{"a", "b", "d"}, []string{"a", "b", "c", "d", "e"}), ",")
	if got != "a,b,c,d,e" {
		t.Fatalf("got %s", got)
	}
}

func TestTableAndJSON(t *testing.T) {
	r := &Report{
		DockerVersion: "20.10",
		Docker:        Side{Elapsed: 400 * time.Millisecond},
		Mini:          Side{Elapsed: 200 * time.Millisecond},
		Ratio:         0.5,
		Rows: []Row{
			{Key: "cap.effective", Docker: "00000000a80425fb", Mini: "000001ffffffffff", Mark: Differs},
			{Key: "etc.hosts", Docker: "127.0.0.1\tlocalhost ; " + strings.Repeat("x", 50), Mini: "y", Mark: Must, Why: "why"},
		},
		Must: 1, Differs: 1,
	}
	var b bytes.Buffer
	r.WriteTable(&b)
	out := b.String()
	for _, want := range []string{
		"cap.effective                       00000000a80425fb              000001ffffffffff              ✗",
		"…", "~ why", "ratio mini-docker/docker: 0.50", "0 ✓ same  1 ~ differ where they must  1 ✗ differ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"mark": "✗"`) || !strings.Contains(b.String(), strings.Repeat("x", 50)) {
		t.Errorf("json: %s", b.String())
	}
	if len(r.Failed()) != 1 {
		t.Errorf("Failed: %v", r.Failed())
	}
}
