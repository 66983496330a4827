package hll

import (
	"fmt"
	"math"
	"testing"
)

func TestEstimateWithinError(t *testing.T) {
	for _, n := range []int{0, 1, 10, 100, 1000, 10_000, 50_000, 200_000} {
		var s Sketch
		for i := range n {
			v := fmt.Sprintf("https://example.edu/users/%d", i)
			s.Add(v)
			s.Add(v) // repeats change nothing
		}
		got := s.Estimate()
		// Three standard errors, and at least one for tiny sets.
		limit := math.Max(1, 3*StdError*float64(n))
		if math.Abs(float64(got-int64(n))) > limit {
			t.Errorf("%d distinct: estimate %d, more than %.0f off", n, got, limit)
		}
	}
}

func TestMergeIsUnion(t *testing.T) {
	var a, b, both Sketch
	for i := range 30_000 {
		v := fmt.Sprint("actor-", i)
		if i < 20_000 {
			a.Add(v)
		}
		if i >= 10_000 {
			b.Add(v)
		}
		both.Add(v)
	}
	a.Merge(&b)
	if a != both {
		t.Fatal("merged sketch differs from the sketch of the union")
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	for _, n := range []int{0, 5, 1000, 100_000} {
		var s Sketch
		for i := range n {
			s.Add(fmt.Sprint(i))
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if n <= 500 && len(b) >= packedLen {
			t.Errorf("%d values: %d bytes, want the sparse encoding", n, len(b))
		}
		if n == 100_000 && len(b) != 1+packedLen {
			t.Errorf("%d values: %d bytes, want the packed encoding", n, len(b))
		}
		var back Sketch
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if back != s {
			t.Errorf("%d values: decoded sketch differs", n)
		}
	}
	var s Sketch
	// The byte-a-register encoding still reads.
	var s1 Sketch
	s1.Add("x")
	old := append([]byte{dense}, s1.reg[:]...)
	var back Sketch
	if err := back.UnmarshalBinary(old); err != nil || back != s1 {
		t.Errorf("dense encoding: %v", err)
	}
	for _, bad := range [][]byte{nil, {9}, {sparse, 0}, {sparse, 0xff, 0xff, 1}, {dense, 1, 2}, {packed, 1}} {
		if err := s.UnmarshalBinary(bad); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}
