//go:build !amd64

package index

import "unsafe"

func prefetch(unsafe.Pointer) {}

// dotF32 is the inner product of a and b (len(b) >= len(a)).
func dotF32(a, b []float32) float32 { return dotF32Go(a, b[:len(a)]) }

// dotU8 is the sum of q[i]·c[i] (len(c) >= len(q)).
func dotU8(q []float32, c []uint8) float32 { return dotU8Go(q, c[:len(q)]) }
