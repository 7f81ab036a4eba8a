package index_test

import (
	"fmt"

	"github.com/m3ret/viewer/library/index"
)

func ExampleExact() {
	idx := index.NewExact(2)
	_ = idx.Add("axial-t1", []float32{1, 0})
	_ = idx.Add("axial-t2", []float32{0.8, 0.6})
	_ = idx.Add("chest-xr", []float32{0, 1})
	hits, _ := idx.Search([]float32{1, 0}, 2, nil)
	for _, h := range hits {
		fmt.Printf("%s %.1f\n", h.ID, h.Score)
	}
	// Output:
	// axial-t1 1.0
	// axial-t2 0.8
}
