package proc

import (
	"strings"
	"testing"
)

// Done when: the stages that run beside the run's own thread (the
// network's steps, the firewall's syncs) are listed but not added to
// the host's sum, so "rest" (wall − host − chain) is not made negative
// by time that overlapped.
func TestParseStagesLeavesOutWhatRunsBeside(t *testing.T) {
	out := `start-up        2.000 ms
pull check      0.300 ms
ipam            0.200 ms
firewall        1.500 ms
overlay         0.500 ms
cgroup          0.100 ms
netns           0.600 ms
veth            1.200 ms
netconf         0.100 ms
cgroup join     0.300 ms
pivot           1.000 ms
chain total     6.000 ms
release         2.000 ms
firewall        9.000 ms
exit            0.300 ms
`
	got := map[string]float64{}
	host, chain, total := ParseStages(strings.NewReader(out), func(name string, v float64) { got[name] = v })
	if !total || chain != 6 {
		t.Fatalf("chain %v (total %v), want 6", chain, total)
	}
	// start-up, pull check, ipam, overlay, cgroup, release, exit.
	if want := 2.0 + 0.3 + 0.2 + 0.5 + 0.1 + 2.0 + 0.3; host < want-1e-9 || host > want+1e-9 {
		t.Errorf("host stages sum to %v, want %v", host, want)
	}
	if got["firewall #2"] != 9 || got["veth"] != 1.2 {
		t.Errorf("the stages beside are not listed as they were printed: %v", got)
	}
}
