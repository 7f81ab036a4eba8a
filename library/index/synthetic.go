package index

import (
	"math"
	"math/rand/v2"
)

// Synthetic returns n seeded unit vectors of length dim, for tests and
// benchmarks: "random" (uniform on the sphere, the hardest case for any
// graph index) or "clustered" (200 clusters in a 24-dimensional subspace
// plus noise, shaped like real embeddings).
func Synthetic(kind string, n, dim int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 99))
	out := make([][]float32, n)
	if kind != "clustered" {
		for i := range out {
			out[i] = unit(r, dim)
		}
		return out
	}
	const rank, clusters = 24, 200
	basis := make([][]float32, rank)
	for i := range basis {
		basis[i] = unit(rand.New(rand.NewPCG(uint64(i), 7)), dim) // fixed subspace for every seed
	}
	centres := make([][]float64, clusters)
	cr := rand.New(rand.NewPCG(11, 13)) // fixed clusters for every seed
	for c := range centres {
		centres[c] = make([]float64, rank)
		for j := range centres[c] {
			centres[c][j] = cr.NormFloat64()
		}
	}
	for i := range out {
		c := centres[r.IntN(clusters)]
		v := make([]float32, dim)
		for j := 0; j < rank; j++ {
			w := float32(c[j] + 0.35*r.NormFloat64())
			for d := range v {
				v[d] += w * basis[j][d]
			}
		}
		for d := range v {
			v[d] += float32(0.05 * r.NormFloat64())
		}
		out[i] = normalize(v)
	}
	return out
}

func unit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return normalize(v)
}

func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}
