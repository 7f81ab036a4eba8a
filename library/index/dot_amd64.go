package index

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the assembly kernels (AVX2 and FMA, every x86-64 CPU
// since 2013); the portable loops serve the others.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotU8AVX2(q *float32, c *uint8, n int) float32

// prefetch asks the CPU to bring the two cache lines at p closer: the
// graph walk calls it for the next neighbour's vector while it scores the
// current one (hnswlib's _mm_prefetch).
//
//go:noescape
func prefetch(p unsafe.Pointer)

// dotF32 is the inner product of a and b (len(b) >= len(a)).
func dotF32(a, b []float32) float32 {
	n := len(a) &^ 31
	var s float32
	if useAVX2 && n > 0 {
		s = dotF32AVX2(&a[0], &b[0], n)
	} else {
		n = 0
	}
	return s + dotF32Go(a[n:], b[n:len(a)])
}

// dotU8 is the sum of q[i]·c[i] over the codes of a quantized vector
// (len(c) >= len(q)).
func dotU8(q []float32, c []uint8) float32 {
	n := len(q) &^ 31
	var s float32
	if useAVX2 && n > 0 {
		s = dotU8AVX2(&q[0], &c[0], n)
	} else {
		n = 0
	}
	return s + dotU8Go(q[n:], c[n:len(q)])
}
