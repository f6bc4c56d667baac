package testenv

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// The registry holds what skopeo pushed: each standard image is readable
// back by skopeo, with the manifest format it was pushed in.
func TestRegistryHoldsStandardImages(t *testing.T) {
	Integration(t)
	RequireCommand(t, "skopeo")
	r := SharedRegistry(t)
	cases := []struct {
		ref, mediaType string
	}{
		{PushBusybox(t, r), "application/vnd.docker.distribution.manifest.v2+json"},
		{PushDebian(t, r), "application/vnd.oci.image.manifest.v1+json"},
		{r.Ref(DebianLatest), "application/vnd.oci.image.manifest.v1+json"},
	}
	for _, c := range cases {
		out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "--raw", "docker://"+c.ref).Output()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v", c.ref, err)
		}
		var m struct {
			MediaType string `json:"mediaType"`
			Layers    []any  `json:"layers"`
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if m.MediaType != c.mediaType || len(m.Layers) != 1 {
			t.Errorf("%s: mediaType %q with %d layers, want %q with 1", c.ref, m.MediaType, len(m.Layers), c.mediaType)
		}
	}
}

// A registry with basic auth refuses anonymous reads and accepts its user.
func TestRegistryBasicAuth(t *testing.T) {
	Integration(t)
	RequireCommand(t, "htpasswd")
	r := NewRegistry(t, RegistryOptions{User: "alice", Pass: "s3cret"})
	PushBusybox(t, r)
	if out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "docker://"+r.Ref(BusyboxRepo)).CombinedOutput(); err == nil {
		t.Fatalf("anonymous inspect succeeded: %s", out)
	}
	out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret", "docker://"+r.Ref(BusyboxRepo)).CombinedOutput()
	if err != nil {
		t.Fatalf("inspect with credentials: %v\n%s", err, out)
	}
}

// Stop leaves no registry process behind.
func TestRegistryStopLeavesNothing(t *testing.T) {
	Integration(t)
	r, err := StartRegistry(RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pid := r.cmd.Process.Pid
	r.Stop()
	out, _ := exec.Command("ps", "-o", "pid=", "-p", itoa(pid)).Output()
	if strings.TrimSpace(string(out)) != "" {
		t.Fatalf("registry process %d still running after Stop", pid)
	}
}

func TestBusyboxRootfsRuns(t *testing.T) {
	RequireCommand(t, BusyboxPath)
	dir := BusyboxRootfs(t)
	out, err := exec.Command(dir+"/bin/sh", "-c", "echo ok").Output()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("busybox sh in rootfs: %v %q", err, out)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
