package index

import (
	"fmt"
	"os"
	"testing"

	coder "github.com/coder/hnsw"
)

// TestCoderHNSWRecall measures github.com/coder/hnsw v0.6.1, the module the
// design card named, on the same data and oracle as TestHNSWRecall. It
// runs with M3RET_MEASURE=1 and only reports: the figures are in the
// README's dependency table (recall@10 0.005-0.05 measured before; the
// shipped graph is ours).
func TestCoderHNSWRecall(t *testing.T) {
	if os.Getenv("M3RET_MEASURE") != "1" {
		t.Skip("measurement only; set M3RET_MEASURE=1")
	}
	for _, kind := range []string{"clustered", "random"} {
		data, queries := dataset(kind, 20000, 128, 1), dataset(kind, 200, 128, 2)
		g := coder.NewGraph[int]()
		g.M, g.EfSearch, g.Distance = 16, 200, coder.CosineDistance
		e := NewExact(0)
		for i, v := range data {
			g.Add(coder.MakeNode(i, v))
			_ = e.Add(fmt.Sprint(i), v)
		}
		var sum float64
		for _, q := range queries {
			want, _ := e.Search(q, 10, nil)
			got := g.Search(q, 10)
			found := map[string]bool{}
			for _, n := range got {
				found[fmt.Sprint(n.Key)] = true
			}
			for _, w := range want {
				if found[w.ID] {
					sum += 0.1
				}
			}
		}
		t.Logf("coder/hnsw v0.6.1, %s 128-d, 20k vectors, EfSearch 200: recall@10 %.4f", kind, sum/float64(len(queries)))
	}
}
