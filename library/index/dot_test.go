package index

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/viterin/vek/vek32"
)

// The assembly kernels agree with the portable loops at every length,
// including tails and lengths below one block.
func TestDotKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 8, 31, 32, 33, 64, 100, 192, 256, 257, 768} {
		a, b, c := make([]float32, n), make([]float32, n), make([]uint8, n)
		for i := range a {
			a[i], b[i], c[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), uint8(r.IntN(256))
		}
		var wantU8 float64
		for i := range a {
			wantU8 += float64(a[i]) * float64(c[i])
		}
		tests := []struct {
			name      string
			got, want float64
			tol       float64
		}{
			{"f32", float64(dotF32(a, b)), float64(vek32.Dot(a, b)), 1e-4 * math.Sqrt(float64(n))},
			{"f32-go", float64(dotF32Go(a, b)), float64(vek32.Dot(a, b)), 1e-4 * math.Sqrt(float64(n))},
			{"u8", float64(dotU8(a, c)), wantU8, 3e-2 * math.Sqrt(float64(n))},
			{"u8-go", float64(dotU8Go(a, c)), wantU8, 3e-2 * math.Sqrt(float64(n))},
		}
		for _, tc := range tests {
			if math.Abs(tc.got-tc.want) > tc.tol {
				t.Errorf("n %d %s: %v, want %v", n, tc.name, tc.got, tc.want)
			}
		}
	}
}

func BenchmarkDot(b *testing.B) {
	a, c := Synthetic("random", 2, 256, 1), make([]uint8, 256)
	b.Run("vek32", func(b *testing.B) {
		for b.Loop() {
			_ = vek32.Dot(a[0], a[1])
		}
	})
	b.Run("f32", func(b *testing.B) {
		for b.Loop() {
			_ = dotF32(a[0], a[1])
		}
	})
	b.Run("u8", func(b *testing.B) {
		for b.Loop() {
			_ = dotU8(a[0], c)
		}
	})
}

// The benchmark's blocked ground truth is the exact search's answer.
func TestGroundTruth(t *testing.T) {
	data, queries := Synthetic("clustered", 5000, 32, 40), Synthetic("clustered", 20, 32, 41)
	e := NewExact(32)
	for i, v := range data {
		_ = e.Add(strconv.Itoa(i), v)
	}
	got := groundTruth(data, queries, 10)
	for i, q := range queries {
		want, _ := e.Search(q, 10, nil)
		for r, h := range want {
			if strconv.Itoa(int(got[i][r])) != h.ID {
				t.Fatalf("query %d rank %d: %d, want %s", i, r, got[i][r], h.ID)
			}
		}
	}
}
