package proc

import (
	"reflect"
	"testing"
)

// RoundRatios splits the samples as Interleaved takes them: 5 runs in 2
// rounds are 3 then 2, and each round's ratio is of its medians.
func TestRoundRatios(t *testing.T) {
	as := []float64{10, 10, 40, 20, 20}
	bs := []float64{9, 11, 12, 30, 10}
	if got, want := RoundRatios(as, bs, 5, 2), []float64{1.1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("RoundRatios: %v, want %v", got, want)
	}
	if got := RoundRatios(as[:2], bs, 5, 2); len(got) != 0 {
		t.Errorf("RoundRatios with a round short of samples: %v, want none", got)
	}
}

// Each round of Rounds begins with the next command: every command goes
// first as often as the others, and two commands swap every round.
func TestRoundOrder(t *testing.T) {
	for _, c := range []struct {
		i, n int
		want []int
	}{{0, 2, []int{0, 1}}, {1, 2, []int{1, 0}}, {2, 2, []int{0, 1}}, {0, 3, []int{0, 1, 2}}, {1, 3, []int{1, 2, 0}}, {5, 3, []int{2, 0, 1}}} {
		if got := roundOrder(c.i, c.n); !reflect.DeepEqual(got, c.want) {
			t.Errorf("roundOrder(%d, %d) = %v, want %v", c.i, c.n, got, c.want)
		}
	}
}
