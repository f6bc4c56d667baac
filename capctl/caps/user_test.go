package caps

import "testing"

// mapsID reads an ID map as user_namespaces(7) writes it: each line maps
// COUNT IDs from INSIDE on.
func TestMapsID(t *testing.T) {
	for _, c := range []struct {
		idMap string
		id    int
		want  bool
	}{
		{"         0          0          1\n", 0, true},
		{"         0          0          1\n", 1000, false},
		{"0 0 4294967295\n", 1000, true},
		{"0 100000 65536\n", 65535, true},
		{"0 100000 65536\n", 65536, false},
		{"0 0 1\n1000 1000 1\n", 1000, true},
		{"", 0, false},
		{"x y z\n0 0\n", 0, false},
	} {
		if got := mapsID(c.idMap, c.id); got != c.want {
			t.Errorf("mapsID(%q, %d) = %v, want %v", c.idMap, c.id, got, c.want)
		}
	}
}
