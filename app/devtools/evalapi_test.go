package devtools

import (
	"math"
	"testing"
)

// TestScoreVectors: unlabelled items query by their copies but are never
// relevant to one another; labelled ones are also scored by label. Copy 1
// finds items 2 and 3 before its original (recall@1 3/4); left without its
// original, it finds its label's other item third (AP 1/3).
func TestScoreVectors(t *testing.T) {
	vecs := [][]float32{{1, 0, 0}, {0.9, 0.1, 0}, {0, 1, 0}, {0, 0.9, 0.1}}
	pert := [][]float32{{0.95, 0.05, 0}, {0.1, 0.9, 0}, {0, 0.95, 0.05}, {0, 0.1, 0.9}}
	cases := []struct {
		name           string
		labels         []string
		labelN, mapN   int
		recall1        float64
		labelMAP, pMAP float64
	}{
		{"unlabelled", []string{"", "", "", ""}, 0, 0, 0.75, 0, 0},
		{"labelled", []string{"a", "a", "b", "b"}, 4, 4, 0.75, 1, (1 + 1.0/3 + 1 + 1) / 4},
		{"some labelled", []string{"a", "a", "", ""}, 2, 2, 0.75, 1, (1 + 1.0/3) / 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ScoreVectors(vecs, pert, c.labels, 10)
			if s.Items != 4 || s.LabelN != c.labelN || s.MAPN != c.mapN || s.RecallAt1 != c.recall1 ||
				s.LabelMAPAtK != c.labelMAP || math.Abs(s.MAPAtK-c.pMAP) > 1e-12 || s.RecallAt5 != 1 {
				t.Errorf("%+v", s)
			}
		})
	}
}
