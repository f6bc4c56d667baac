package api

import (
	"strings"
	"testing"
)

// TestDockerCLINetworksAndVolumes: docker network and docker volume,
// with each docker CLI the machine has, against mini-docker: a network
// made with a subnet and a label, found by the label, a container on it
// reached by its alias, one connected and disconnected, a volume
// written by one container and read by the next; what is in use cannot
// be removed; then rm and prune leave nothing, and the mini-docker CLI
// sees the same networks and volumes.
func TestDockerCLINetworksAndVolumes(t *testing.T) {
	h := newHarness(t)
	ref := h.busybox()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			d := func(args ...string) string { return h.mustDocker(h.srv, cli, args...) }
			id := strings.TrimSpace(d("network", "create", "--subnet", "10.77.0.0/24", "--label", "lesson=14", "app"))
			if !hex64.MatchString(id) {
				t.Fatalf("docker network create printed %q, want a 64-hex ID", id)
			}
			if out := d("network", "ls", "--filter", "label=lesson=14", "--format", "{{.Name}} {{.Driver}}"); out != "app bridge\n" {
				t.Errorf("network ls --filter label=lesson=14 printed %q", out)
			}
			if out, _ := h.md("network", "ls"); !strings.Contains(out, "app") {
				t.Errorf("mini-docker network ls does not list the API's network:\n%s", out)
			}
			d("run", "-d", "--name", "db", "--network", "app", "--network-alias", "database", ref, "sleep", "300")
			if out := d("run", "--rm", "--network", "app", ref, "ping", "-c1", "-W5", "database"); !strings.Contains(out, "1 packets received") {
				t.Errorf("ping of db by its alias on app:\n%s", out)
			}
			if out := d("ps", "--filter", "network=app", "--format", "{{.Names}} {{.Networks}}"); out != "db app\n" {
				t.Errorf("docker ps --filter network=app printed %q", out)
			}
			if out := d("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}} {{(index .IPAM.Config 0).Subnet}}", "app"); !strings.HasPrefix(out, "db 10.77.0.") || !strings.HasSuffix(out, " 10.77.0.0/24\n") {
				t.Errorf("network inspect app printed %q", out)
			}
			d("run", "-d", "--name", "other", "--network", "none", ref, "sleep", "300")
			_, errOut, code := h.docker(h.srv, cli, "network", "connect", "app", "other")
			if code == 0 || !strings.Contains(errOut, "private (none) mode") {
				t.Errorf("network connect of a --network none container: exit %d %s", code, errOut)
			}
			d("run", "-d", "--name", "web", ref, "sleep", "300")
			d("network", "connect", "--alias", "again", "app", "web")
			if out := d("run", "--rm", "--network", "app", ref, "ping", "-c1", "-W5", "again"); !strings.Contains(out, "1 packets received") {
				t.Errorf("ping of web by the alias network connect gave it:\n%s", out)
			}
			d("network", "disconnect", "app", "web")
			if out := d("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "web"); out != "bridge \n" {
				t.Errorf("web's networks after disconnect: %q", out)
			}
			if _, errOut, code := h.docker(h.srv, cli, "network", "rm", "app"); code == 0 || !strings.Contains(errOut, "active endpoints") {
				t.Errorf("network rm of a network in use: exit %d %s", code, errOut)
			}

			d("volume", "create", "--label", "lesson=14", "data")
			d("run", "--rm", "-v", "data:/data", "--network", "none", ref, "sh", "-c", "echo kept > /data/f")
			if out := d("run", "--rm", "-v", "data:/data", "--network", "none", ref, "cat", "/data/f"); out != "kept\n" {
				t.Errorf("the volume's file read by the next container: %q", out)
			}
			if out := d("volume", "ls", "--filter", "label=lesson=14", "--format", "{{.Name}} {{.Driver}}"); out != "data local\n" {
				t.Errorf("volume ls --filter label=lesson=14 printed %q", out)
			}
			if out, _ := h.md("volume", "inspect", "data"); !strings.Contains(out, `"lesson": "14"`) {
				t.Errorf("mini-docker volume inspect data:\n%s", out)
			}
			d("run", "-d", "--name", "user", "-v", "data:/data", "--network", "none", ref, "sleep", "300")
			if _, errOut, code := h.docker(h.srv, cli, "volume", "rm", "data"); code == 0 || !strings.Contains(errOut, "volume is in use") {
				t.Errorf("volume rm of a volume in use: exit %d %s", code, errOut)
			}

			d("rm", "-f", "db", "other", "user", "web")
			if out := d("network", "prune", "-f"); !strings.Contains(out, "app") {
				t.Errorf("network prune printed %q", out)
			}
			if out := d("volume", "rm", "data"); out != "data\n" {
				t.Errorf("volume rm printed %q", out)
			}
			if out := d("network", "ls", "-q", "--filter", "type=custom"); out != "" {
				t.Errorf("networks left: %q", out)
			}
			if out := d("volume", "ls", "-q"); out != "" {
				t.Errorf("volumes left: %q", out)
			}
			h.assertNoLeaks()
		})
	}
}
