package container

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/network"
)

// oldState is a state.json as mini-docker wrote it before Config and
// HostConfig became Docker's own types (its own structs then, and the
// inside plan's binds as strings).
const oldState = `{
    "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "Created": "2026-12-01T10:00:00Z",
    "Path": "sleep", "Args": ["300"],
    "State": {"Status": "exited", "Running": false, "ExitCode": 137},
    "Name": "/old",
    "HostConfig": {"Binds": ["/srv:/data:ro"], "NetworkMode": "bridge",
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
        "AutoRemove": false, "CapAdd": ["NET_ADMIN"], "CapDrop": null, "Privileged": false,
        "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges"], "Memory": 33554432,
        "MemorySwap": 0, "NanoCpus": 500000000, "CpuShares": 0, "PidsLimit": 10, "Init": null,
        "ShmSize": 67108864, "ExtraHosts": null},
    "GraphDriver": {"Name": "overlay2", "Data": {"LowerDir": "/l/top:/l/base"}},
    "Config": {"Hostname": "0123456789ab", "User": "", "Env": ["PATH=/bin"], "Cmd": ["sleep", "300"],
        "Image": "debian", "WorkingDir": "", "Entrypoint": null, "Labels": {}},
    "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}, "Networks": {}},
    "MiniDocker": {"Inside": {"Program": "/bin/mini-docker-inside", "Hostname": "0123456789ab", "Root": "/m",
        "Binds": ["/c/hosts:/etc/hosts"], "Workdir": "/", "Seccomp": "default", "Argv": ["sleep", "300"]}}
}`

// TestLoadsStateOfEarlierVersions: containers recorded before the state
// took Docker's types still load, with every field in its new place.
func TestLoadsStateOfEarlierVersions(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := os.MkdirAll(s.Dir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(id), "state.json"), []byte(oldState), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	hc := c.HostConfig
	port := network.MustParsePort("80/tcp")
	if c.State.Status != Exited || hc.NetworkMode != NetworkBridge || hc.Binds[0] != "/srv:/data:ro" ||
		hc.Memory != 32<<20 || hc.NanoCPUs != 5e8 || *hc.PidsLimit != 10 || !hc.ReadonlyRootfs ||
		len(hc.PortBindings[port]) != 1 || hc.PortBindings[port][0].HostIP.String() != "127.0.0.1" ||
		c.Config.Cmd[1] != "300" || c.Runtime.Inside.Root != "/m" {
		t.Fatalf("loaded %+v\n%+v", c, hc)
	}
}
