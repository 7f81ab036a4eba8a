package devtools

import (
	"strconv"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/perturb"
)

// The scoring of `m3ret eval`, for `m3ret adapt`: it reports a model
// before and after adapting it with these same figures, on vectors it
// computes itself (the adapted model's are in no library yet).

// Scores are the figures of `m3ret eval --perturb` over one set of items.
type Scores struct {
	Items int `json:"items"`
	// Perturbed copies querying the originals (recall@1, @5 of the own
	// original; mAP@k by label without it, over MAPN labelled copies).
	RecallAt1 float64 `json:"recall_at_1"`
	RecallAt5 float64 `json:"recall_at_5"`
	MAPN      int     `json:"map_n"`
	MAPAtK    float64 `json:"perturbed_map_at_k"`
	// Leave-one-out retrieval by label (LabelN queries; none without labels).
	LabelN      int     `json:"label_n"`
	PrecisionA1 float64 `json:"precision_at_1"`
	PrecisionA5 float64 `json:"precision_at_5"`
	RecallAtK   float64 `json:"recall_at_k"`
	LabelMAPAtK float64 `json:"map_at_k"`
	K           int     `json:"k"`
	Changes     string  `json:"changes"` // what the perturbed copies went through
}

// ScoreVectors scores the originals' vectors vecs and their perturbed
// copies' pert as `m3ret eval --perturb` does. labels[i] is item i's label,
// "" for none: an unlabelled item queries by its copy and is never
// relevant to another.
func ScoreVectors(vecs, pert [][]float32, labels []string, k int) Scores {
	labs := make([]string, len(labels))
	labelled := false
	for i, l := range labels {
		labs[i] = l
		if l == "" {
			labs[i] = "\x00unlabelled " + strconv.Itoa(i) // its own, shared with no other
		} else {
			labelled = true
		}
	}
	p := scorePerturbed(vecs, pert, labs, k)
	s := Scores{Items: len(vecs), RecallAt1: p.RecallAt1, RecallAt5: p.RecallAt5, MAPN: p.MAPN, MAPAtK: p.MAPAtK, K: k, Changes: p.Changes}
	if labelled {
		r := evaluate(vecs, labs, k)
		s.LabelN, s.PrecisionA1, s.PrecisionA5, s.RecallAtK, s.LabelMAPAtK = r.N, r.PrecisionA1, r.PrecisionA5, r.RecallAtK, r.MAPAtK
	}
	return s
}

// PerturbedCopy is the copy of item it (decoded as s) that `m3ret eval
// --perturb --seed seed` queries with.
func PerturbedCopy(s *media.Sample, it library.Item, seed uint64) (*media.Sample, error) {
	return perturb.Apply(s, perturb.Default.Draw(itemRand(seed, it)))
}

// ReadLabels reads a labels CSV as `m3ret eval --labels` does: absolute,
// cleaned path -> label.
func ReadLabels(path string) (map[string]string, error) {
	rows, err := readLabels(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for p, r := range rows {
		out[p] = r.label
	}
	return out, nil
}
