package api

import (
	"strings"
	"testing"
)

// Docker's CLI through the API: --dns, --dns-search, --dns-option and
// --add-host reach the container's /etc files, and --network
// container:NAME joins the other container's network namespace with its
// hostname, as with mini-docker run.
func TestDockerCLINetworkSettings(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			out := h.mustDocker(h.srv, cli, "run", "--rm", "--network", "none", "--dns", "9.9.9.9", "--dns-search", "a.example",
				"--dns-option", "ndots:2", "--add-host", "db:10.1.2.3", ref, "cat", "/etc/resolv.conf", "/etc/hosts")
			for _, want := range []string{"nameserver 9.9.9.9\n", "search a.example\n", "options ndots:2\n", "10.1.2.3\tdb\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("/etc/resolv.conf and /etc/hosts lack %q:\n%s", want, out)
				}
			}
			h.mustDocker(h.srv, cli, "run", "-d", "--name", "pod", "--network", "none", "-h", "podhost", ref, "sleep", "300")
			own := h.mustDocker(h.srv, cli, "exec", "pod", "readlink", "/proc/self/ns/net")
			out = h.mustDocker(h.srv, cli, "run", "--rm", "--network", "container:pod", ref, "sh", "-c", "readlink /proc/self/ns/net; hostname")
			if out != own+"podhost\n" {
				t.Errorf("--network container:pod: %q, want pod's namespace %q and hostname podhost", out, own)
			}
			_, errOut, code := h.docker(h.srv, cli, "run", "--rm", "--network", "container:pod", "--dns", "9.9.9.9", ref, "true")
			if code != 125 || !strings.Contains(errOut, "conflicting options: dns and the network mode") {
				t.Errorf("--network container:pod --dns: exit %d %q", code, errOut)
			}
			h.mustDocker(h.srv, cli, "rm", "-f", "pod")
			h.assertNoLeaks()
		})
	}
}
