package index

import (
	"fmt"
	"testing"

	coder "github.com/coder/hnsw"
)

// BenchmarkCoderHNSW measures github.com/coder/hnsw v0.6.1, the module the
// design card named, against our graph on the same data and the same exact
// oracle: recall@10 of each as metrics, and coder/hnsw's query time. The
// figures are in the README's dependency table; the shipped graph is ours.
//
//	go test -run '^$' -bench CoderHNSW -benchtime 200x ./library/index
func BenchmarkCoderHNSW(b *testing.B) {
	for _, kind := range []string{"clustered", "random"} {
		b.Run(kind, func(b *testing.B) {
			data, queries := dataset(kind, 20000, 128, 1), dataset(kind, 200, 128, 2)
			g := coder.NewGraph[int]()
			g.M, g.EfSearch, g.Distance = 16, 200, coder.CosineDistance
			ours, exact := NewHNSW(0, DefaultHNSW), NewExact(0)
			ours.SetEfSearch(g.EfSearch) // the same search width
			for i, v := range data {
				g.Add(coder.MakeNode(i, v))
				_ = ours.Add(fmt.Sprint(i), v)
				_ = exact.Add(fmt.Sprint(i), v)
			}
			var theirs, mine float64
			for _, q := range queries {
				want, _ := exact.Search(q, 10, nil)
				var got []string
				for _, n := range g.Search(q, 10) {
					got = append(got, fmt.Sprint(n.Key))
				}
				theirs += recallOf(want, got)
				hits, _ := ours.Search(q, 10, nil)
				got = got[:0]
				for _, h := range hits {
					got = append(got, h.ID)
				}
				mine += recallOf(want, got)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.Search(queries[i%len(queries)], 10)
			}
			b.ReportMetric(theirs/float64(len(queries)), "coder-recall@10")
			b.ReportMetric(mine/float64(len(queries)), "ours-recall@10")
		})
	}
}

// recallOf is the share of want's ids among got.
func recallOf(want []Hit, got []string) float64 {
	found := map[string]bool{}
	for _, id := range got {
		found[id] = true
	}
	n := 0
	for _, w := range want {
		if found[w.ID] {
			n++
		}
	}
	return float64(n) / float64(max(len(want), 1))
}
