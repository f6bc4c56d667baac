package ipam

import "testing"

// BenchmarkAllocateRelease measures one lease and its release on disk.
func BenchmarkAllocateRelease(b *testing.B) {
	p, err := OpenPool(b.TempDir(), mustSubnetNoT("10.9.9.0/24"), nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := p.Allocate("c"); err != nil {
			b.Fatal(err)
		}
		if err := p.Release("c"); err != nil {
			b.Fatal(err)
		}
	}
}
