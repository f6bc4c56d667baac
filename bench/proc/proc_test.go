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
