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

// Docker's CLI through the API: the HostConfig fields of docker run's
// other flags reach the container as mini-docker run's own flags would
// (--ulimit, --tmpfs, --shm-size, --group-add, --log-opt), and a field
// mini-docker has no flag for is refused, not dropped in silence.
func TestDockerCLIHostConfigFields(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	for _, cli := range dockerCLIs(t) {
		t.Run(strings.ReplaceAll(cli, "/", "_"), func(t *testing.T) {
			out := h.mustDocker(h.srv, cli, "run", "--rm", "--network", "none", "--ulimit", "nofile=100:200", "--tmpfs", "/scratch:size=1m",
				"--shm-size", "8m", "--group-add", "5", ref, "sh", "-c", "ulimit -n; ulimit -Hn; df -k /scratch /dev/shm | tail -2 | tr -s ' ' | cut -d' ' -f2; id -G")
			if want := "100\n200\n1024\n8192\n0 5\n"; out != want {
				t.Errorf("--ulimit, --tmpfs, --shm-size, --group-add through the API: %q, want %q", out, want)
			}
			if _, errOut, code := h.docker(h.srv, cli, "run", "--rm", "--network", "none", "--log-opt", "max-size=0", ref, "true"); code != 125 {
				t.Errorf("--log-opt max-size=0 (refused by mini-docker run): exit %d %q", code, errOut)
			}
			for _, flag := range [][]string{{"--sysctl", "net.core.somaxconn=100"}, {"--pid", "host"}, {"--oom-score-adj", "100"}, {"--log-driver", "syslog"}} {
				args := append(append([]string{"run", "--rm", "--network", "none"}, flag...), ref, "true")
				if _, errOut, code := h.docker(h.srv, cli, args...); code != 125 || !strings.Contains(errOut, "not supported by mini-docker") {
					t.Errorf("docker run %s through the API: exit %d %q, want a refusal", strings.Join(flag, " "), code, errOut)
				}
			}
			h.assertNoLeaks()
		})
	}
}
